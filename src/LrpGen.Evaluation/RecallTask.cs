using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Evaluation;

/// <summary>A key-value recall prompt: <c>&lt;s&gt; k3=v3b k1=v1d k6=v6a ; k1=</c> predicts <c>v1d</c>.</summary>
/// <param name="Ids">The prompt's token ids.</param>
/// <param name="Answer">The id of the value token that must come next.</param>
/// <param name="AnswerPosition">Where that value token stands in the prompt.</param>
public sealed record RecallPrompt(long[] Ids, long Answer, int AnswerPosition)
{
    public string Text => RecallTask.Text(Ids);

    /// <summary>Where the queried key stands: the last token.</summary>
    public int QueryPosition => Ids.Length - 1;

    /// <summary>The two tokens the answer needs: the value given for the queried key (which of its four values) and the
    /// queried key itself (which pair is asked for), in position order.</summary>
    public int[] EvidencePositions => new[] { AnswerPosition, QueryPosition };

    /// <summary>The answer's rivals: the queried key's three other values, the candidates the prompt rules out.</summary>
    public long[] Rivals => RecallTask.OtherValues(Answer);
}

/// <summary>The synthetic key-value recall task of examples/RecallTraining and <c>lrpgen evaluate recall</c>. The
/// vocabulary: <c>&lt;s&gt;</c> (beginning of the prompt), <c>;</c>, the keys with their equals sign k0= .. k7=, and
/// four possible values per key, v0a .. v7d (42 tokens; <c>k3=v3b</c> is the two tokens <c>k3=</c> <c>v3b</c>). A prompt
/// lists 2 to 6 pairs with distinct keys, each with one of its key's four values drawn at random, then <c>;</c> and a
/// key of the list with its equals sign; the answer is the value that prompt gave that key:
/// <c>&lt;s&gt; k3=v3b k1=v1d k6=v6a ; k1=</c> predicts <c>v1d</c>. Only the value token in the prompt tells which of
/// the four; it is the token that carries the answer, and the queried key is the other token the answer needs. Held-out prompts are those whose token ids hash (FNV-1a) to 0
/// modulo 10; training never draws them.</summary>
public static class RecallTask
{
    public const int Keys = 8;
    public const int ValuesPerKey = 4;
    public const int Values = Keys * ValuesPerKey;
    public const int MinPairs = 2;
    public const int MaxPairs = 6;
    public const long Bos = 0, Semicolon = 1;

    /// <summary>The longest prompt: &lt;s&gt;, 2 tokens per pair, ; and the queried key.</summary>
    public const int MaxLength = 1 + 2 * MaxPairs + 2;

    /// <summary>Token strings by id.</summary>
    public static readonly IReadOnlyList<string> Vocabulary = new[] { "<s>", ";" }
        .Concat(Enumerable.Range(0, Keys).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture) + "="))
        .Concat(Enumerable.Range(0, Values).Select(i => "v" + (i / ValuesPerKey).ToString(CultureInfo.InvariantCulture) + (char)('a' + i % ValuesPerKey)))
        .ToArray();

    public static int VocabSize => Vocabulary.Count;

    public static long Key(int i) => 2 + i;
    /// <summary>The j-th value of key <paramref name="key"/>.</summary>
    public static long Value(int key, int j) => 2 + Keys + key * ValuesPerKey + j;
    /// <summary>The other values of the key that value <paramref name="value"/> belongs to, in id order.</summary>
    public static long[] OtherValues(long value)
    {
        if (!IsValue(value)) throw new ArgumentException($"token {value} is not a value of the recall vocabulary.", nameof(value));
        int key = (int)((value - Value(0, 0)) / ValuesPerKey);
        return Enumerable.Range(0, ValuesPerKey).Select(j => Value(key, j)).Where(v => v != value).ToArray();
    }

    public static bool IsKey(long id) => id >= 2 && id < 2 + Keys;
    public static bool IsValue(long id) => id >= 2 + Keys && id < 2 + Keys + Values;

    /// <summary>A random prompt with the given number of pairs (distinct keys, each with a random one of its values,
    /// uniform query).</summary>
    public static RecallPrompt Sample(Random random, int pairs)
    {
        if (pairs < 1 || pairs > Keys) throw new ArgumentOutOfRangeException(nameof(pairs), pairs, "number of pairs");
        var keys = Shuffled(random, Keys).Take(pairs).ToArray();
        var values = keys.Select(k => random.Next(ValuesPerKey)).ToArray();
        int query = random.Next(pairs);
        var ids = new List<long> { Bos };
        for (int i = 0; i < pairs; i++)
        {
            ids.Add(Key(keys[i]));
            ids.Add(Value(keys[i], values[i]));
        }
        ids.Add(Semicolon);
        ids.Add(Key(keys[query]));
        return new RecallPrompt(ids.ToArray(), Value(keys[query], values[query]), 2 + 2 * query);
    }

    /// <summary>A random prompt with MinPairs..MaxPairs pairs.</summary>
    public static RecallPrompt Sample(Random random) => Sample(random, random.Next(MinPairs, MaxPairs + 1));

    /// <summary>Whether a prompt belongs to the held-out split (FNV-1a of its ids, modulo 10, is 0).</summary>
    public static bool IsHeldOut(IReadOnlyList<long> ids)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var id in ids)
        {
            hash ^= (ulong)id;
            hash = unchecked(hash * 1099511628211UL);
        }
        return hash % 10 == 0;
    }

    /// <summary>Training prompts: an endless stream of prompts outside the held-out split.</summary>
    public static IEnumerable<RecallPrompt> Training(int seed)
    {
        var random = new Random(seed);
        while (true)
        {
            var prompt = Sample(random);
            if (!IsHeldOut(prompt.Ids)) yield return prompt;
        }
    }

    /// <summary><paramref name="count"/> distinct held-out prompts drawn with <paramref name="seed"/>.</summary>
    public static IReadOnlyList<RecallPrompt> HeldOut(int count, int seed)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "a count >= 0");
        var random = new Random(seed);
        var seen = new HashSet<string>();
        var result = new List<RecallPrompt>();
        for (long tries = 0; result.Count < count; tries++)
        {
            if (tries > 1000L * (count + 10)) throw new InvalidOperationException($"could not draw {count} distinct held-out prompts.");
            var prompt = Sample(random);
            if (IsHeldOut(prompt.Ids) && seen.Add(Text(prompt.Ids))) result.Add(prompt);
        }
        return result;
    }

    /// <summary>The prompt as text: tokens separated by spaces, a value written right after its key ("k3=v7").</summary>
    public static string Text(IEnumerable<long> ids)
    {
        var sb = new System.Text.StringBuilder();
        long previous = -1;
        foreach (var id in ids)
        {
            if (sb.Length > 0 && !(IsKey(previous) && IsValue(id))) sb.Append(' ');
            sb.Append(id >= 0 && id < Vocabulary.Count ? Vocabulary[(int)id] : $"<{id}>");
            previous = id;
        }
        return sb.ToString();
    }

    /// <summary>Tokens of a text written as <see cref="Text"/> writes it ("&lt;s&gt; k3=v7 ; k3=").</summary>
    public static long[] Parse(string text)
    {
        if (text is null) throw new ArgumentNullException(nameof(text));
        var ids = new List<long>();
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            int split = word.IndexOf('=');
            var parts = split >= 0 && split < word.Length - 1 ? new[] { word.Substring(0, split + 1), word.Substring(split + 1) } : new[] { word };
            foreach (var part in parts)
            {
                int id = Array.IndexOf(VocabularyArray, part);
                if (id < 0) throw new ArgumentException($"'{part}' is not a token of the recall vocabulary ({string.Join(" ", Vocabulary)}).", nameof(text));
                ids.Add(id);
            }
        }
        return ids.ToArray();
    }

    private static readonly string[] VocabularyArray = Vocabulary.ToArray();

    private static int[] Shuffled(Random random, int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }
}
