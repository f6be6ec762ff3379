using System;
using System.Linq;
using LrpGen.Models.Decoders;
using Xunit;

namespace LrpGen.Models.Tests.Decoders;

/// <summary>A prompt longer than GPT-2's learned positions is a clear error, not LibTorch's index error.</summary>
public class PromptLengthTests
{
    [Fact]
    public void APromptLongerThanNPositionsIsAnError()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("gpt2"));
        Assert.Equal(64, lm.Config.MaxPositions);
        var fits = Enumerable.Range(0, 64).Select(i => (long)(i % 90)).ToArray();
        using (lm.Explain(new[] { fits }, new ExplainRequest())) { }
        var error = Assert.Throws<ArgumentException>(() => lm.Explain(new[] { fits.Append(5).ToArray() }, new ExplainRequest()));
        Assert.Equal("a prompt of 65 tokens is longer than the model's 64 positions (n_positions in its config.json).", error.Message);
    }
}
