using System.Linq;

namespace LrpGen.Models.Tests.Tokenizers;

/// <summary>The tokenizer test corpus: ASCII, accents (composed and decomposed), CJK, Korean, other scripts,
/// Unicode punctuation, emoji, control and zero-width characters, long words, special tokens written in the text.</summary>
internal static class WordPieceCorpus
{
    public static readonly string[] Texts =
    {
        "Hello world!",                                                                         // 0
        "The quick brown fox jumps over the lazy dog.",                                         // 1
        "Caf\u00e9 na\u00efve r\u00e9sum\u00e9, d\u00e9j\u00e0 vu \u00e0 la carte.",            // 2 accents
        "Zo\u00eb Salda\u00f1a visited S\u00e3o Paulo and Krak\u00f3w.",                        // 3
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3092\u89e3\u6790\u3057\u307e\u3059\u3002", // 4 Japanese
        "\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406",                                    // 5 Chinese
        "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4",                                    // 6 Korean
        "Don\u2019t stop believin' \u2014 it's \u201cquoted\u201d text",                        // 7 Unicode punctuation
        "Stra\u00dfe, \u00c6r\u00f8sk\u00f8bing, \u0130stanbul, \u0391\u0392\u0393, \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", // 8
        "supercalifragilisticexpialidociouswordthatisdefinitelylongerthanfiftycharacters ok",  // 9 an 80-character word
        new string('a', 60) + new string('b', 60) + " end",                                     // 10 a word over 100 characters
        "https://example.com/path?query=1&b=2#frag user@example.org",                           // 11
        "3.14159 + 2.71828 = 5.85987; 100% (approx.) $5 \u20ac10 \u00a320",                      // 12
        "Tabs\tand\nnewlines\r\nand no-break\u00a0spaces",                                      // 13
        "e\u0301cole, \u00e9cole",                                                              // 14 decomposed and composed accent
        "",                                                                                     // 15
        "I love \ud83c\udf55 and \ud83d\ude00!",                                                // 16 emoji
        "[CLS] hello [SEP] [MASK] world",                                                       // 17 special tokens in the text
        "UPPER lower MiXeD CaSe",                                                               // 18
        "control\u0000chars\u200bzero width\ufffd end",                                         // 19
        "unaffable unbelievably transformers tokenization",                                     // 20 word pieces
        string.Join(" ", Enumerable.Repeat("The transformer explains every token.", 80)),       // 21 long: truncated at 512
    };
}
