using System.Linq;
using LrpGen.Evaluation;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The committed recall model's tokenizer.json (a word-level Hugging Face tokenizer of the task's vocabulary,
/// so <c>--text</c> works and tokens show as text) against the task's own vocabulary and prompts (RecallTask).</summary>
public class RecallTokenizerTests
{
    [Fact]
    public void EncodesEveryTokenAndPromptAsTheTaskDoes()
    {
        using var tokenizer = HfTokenizer.TryLoad(Repository.RecallModel);
        Assert.NotNull(tokenizer);
        for (int id = 0; id < RecallTask.VocabSize; id++)
        {
            Assert.Equal(new long[] { id }, tokenizer!.Encode(RecallTask.Vocabulary[id]));
            Assert.Equal(RecallTask.Vocabulary[id], tokenizer.Piece(id));
        }
        foreach (var prompt in RecallTask.HeldOut(200, seed: 5))
            Assert.Equal(prompt.Ids, tokenizer!.Encode(prompt.Text));
    }
}
