using System;
using System.Linq;
using Xunit;

namespace LrpGen.Evaluation.Tests;

public class RecallTaskTests
{
    [Fact]
    public void PromptsHaveTheDocumentedShape()
    {
        var random = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            var p = RecallTask.Sample(random);
            int pairs = (p.Ids.Length - 3) / 2;
            Assert.Equal(3 + 2 * pairs, p.Ids.Length);
            Assert.InRange(pairs, RecallTask.MinPairs, RecallTask.MaxPairs);
            Assert.Equal(RecallTask.Bos, p.Ids[0]);
            Assert.Equal(RecallTask.Semicolon, p.Ids[^2]);
            long query = p.Ids[^1];
            Assert.True(RecallTask.IsKey(query));
            // The answer position holds the answer, right after the queried key in the list.
            Assert.Equal(p.Answer, p.Ids[p.AnswerPosition]);
            Assert.Equal(query, p.Ids[p.AnswerPosition - 1]);
            var values = Enumerable.Range(0, pairs).Select(k => p.Ids[2 + 2 * k]).ToArray();
            var keys = Enumerable.Range(0, pairs).Select(k => p.Ids[1 + 2 * k]).ToArray();
            Assert.Equal(pairs, keys.Distinct().Count());
            // Each value is one of its key's four.
            for (int k = 0; k < pairs; k++)
                Assert.Equal(keys[k] - 2, (values[k] - 2 - RecallTask.Keys) / RecallTask.ValuesPerKey);
            Assert.All(values, v => Assert.True(RecallTask.IsValue(v)));
            Assert.All(keys, k => Assert.True(RecallTask.IsKey(k)));
        }
        var ids = new long[] { RecallTask.Bos, RecallTask.Key(3), RecallTask.Value(3, 1), RecallTask.Key(1), RecallTask.Value(1, 3), RecallTask.Semicolon, RecallTask.Key(1) };
        Assert.Equal("<s> k3=v3b k1=v1d ; k1=", RecallTask.Text(ids));
        Assert.Equal(ids, RecallTask.Parse("<s> k3=v3b k1=v1d ; k1="));
        Assert.Equal(ids, RecallTask.Parse("<s> k3= v3b k1= v1d ; k1="));
        Assert.Throws<ArgumentException>(() => RecallTask.Parse("k3=x"));
        Assert.Equal(42, RecallTask.VocabSize);
    }

    [Fact]
    public void TrainingNeverDrawsHeldOutPrompts()
    {
        var heldOut = RecallTask.HeldOut(300, seed: 1);
        Assert.Equal(300, heldOut.Select(p => p.Text).Distinct().Count());
        Assert.All(heldOut, p => Assert.True(RecallTask.IsHeldOut(p.Ids)));
        Assert.All(RecallTask.Training(7).Take(5000), p => Assert.False(RecallTask.IsHeldOut(p.Ids)));
        // About a tenth of all prompts are held out.
        var random = new Random(2);
        int held = Enumerable.Range(0, 20000).Count(_ => RecallTask.IsHeldOut(RecallTask.Sample(random).Ids));
        Assert.InRange(held, 1600, 2400);
    }
}
