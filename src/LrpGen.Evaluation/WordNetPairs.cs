using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace LrpGen.Evaluation;

/// <summary>A sentence pair and where it comes from.</summary>
public sealed record SentencePair(string A, string B, string Source);

/// <summary>Sentence pairs from WordNet 3.0's example sentences, as Debian's <c>wordnet-base</c> package installs
/// them (/usr/share/wordnet/data.noun, data.verb, data.adj, data.adv). Each synset (one sense of a word) whose gloss
/// quotes two or more example sentences of 4 to 30 words gives one pair: its first two such examples (e.g. "he quit
/// smoking cold turkey" and "she quit her job cold turkey"), two sentences using the same sense. Offline, fixed by
/// the package, the same on every machine with it.</summary>
public static partial class WordNetPairs
{
    public const string DefaultFolder = "/usr/share/wordnet";
    public const string Package = "wordnet-base";
    public static readonly IReadOnlyList<string> Files = new[] { "data.noun", "data.verb", "data.adj", "data.adv" };
    public const int MinWords = 4, MaxWords = 30;

    /// <summary>The message for a folder without the data files: what to install.</summary>
    public static string MissingMessage(string folder) =>
        $"WordNet's data files (data.noun, data.verb, ...) are not in {folder}: install Debian's {Package} package " +
        $"(apt-get install {Package}) or give the folder that holds them.";

    /// <summary>Whether <paramref name="folder"/> holds every data file.</summary>
    public static bool IsPresent(string folder) => Files.All(f => File.Exists(Path.Combine(folder, f)));

    /// <summary>Every pair in the folder, in file order (noun, verb, adjective, adverb; by synset offset).</summary>
    public static IReadOnlyList<SentencePair> ReadAll(string folder)
    {
        if (!IsPresent(folder)) throw new FileNotFoundException(MissingMessage(folder));
        var pairs = new List<SentencePair>();
        foreach (var file in Files)
            foreach (var line in File.ReadLines(Path.Combine(folder, file)))
                if (ParseLine(line, file) is { } pair) pairs.Add(pair);
        return pairs;
    }

    /// <summary><paramref name="count"/> pairs spread evenly over the whole list (pair floor(i * n / count)).</summary>
    public static IReadOnlyList<SentencePair> Select(IReadOnlyList<SentencePair> all, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one pair");
        if (count > all.Count) throw new ArgumentException($"{count} pairs asked for, {all.Count} available.", nameof(count));
        return Enumerable.Range(0, count).Select(i => all[(int)((long)i * all.Count / count)]).ToArray();
    }

    /// <summary>The pair of one line of a WordNet data file (see wndb(5WN)): "offset lex_filenum ss_type w_cnt word
    /// lex_id ... | gloss", the gloss's examples in double quotes; null for the licence header, a synset with fewer
    /// than two usable examples, or a malformed line.</summary>
    public static SentencePair? ParseLine(string line, string file)
    {
        if (line.Length == 0 || line[0] == ' ') return null;   // the licence header lines start with two spaces
        int bar = line.IndexOf(" | ", StringComparison.Ordinal);
        if (bar < 0) return null;
        var fields = line.Substring(0, bar).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5) return null;
        var examples = Quoted().Matches(line.Substring(bar + 3))
            .Select(m => Clean(m.Groups[1].Value))
            .Where(s => WordCount(s) is >= MinWords and <= MaxWords)
            .Distinct()
            .Take(2)
            .ToArray();
        if (examples.Length < 2) return null;
        string word = fields[4].Replace('_', ' ');
        return new SentencePair(examples[0], examples[1], $"{file} {fields[0]} ({word})");
    }

    private static string Clean(string s) => Regex.Replace(s.Trim(), @"\s+", " ");

    private static int WordCount(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex Quoted();
}
