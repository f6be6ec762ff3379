using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using LrpGen.Models.Tokenizers;

namespace LrpGen.Models.Tests.Tokenizers;

/// <summary>tokenizer.json files for the tests: BERT's, as transformers' BertTokenizerFast writes it for a vocab.txt
/// (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP]), and two tiny hand-made ones whose outputs are
/// derived by hand: a byte-level BPE with RoBERTa's post-processor and a SentencePiece Unigram with XLM-R's.</summary>
internal static class TokenizerJsonFixtures
{
    public static string Write(string folder, string name, string json)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>BertTokenizerFast's tokenizer.json for <paramref name="vocab"/> under <paramref name="options"/>.</summary>
    public static string Bert(IReadOnlyList<string> vocab, WordPieceOptions options)
    {
        int Id(string token) => vocab.ToList().IndexOf(token);
        var vocabObject = new JsonObject();
        for (int i = 0; i < vocab.Count; i++) vocabObject[vocab[i]] = i;
        var added = new JsonArray();
        foreach (var special in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
            added.Add(new JsonObject
            {
                ["id"] = Id(special), ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        JsonObject Special(string token) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = options.SplitChineseCharacters,
                ["strip_accents"] = options.StripAccents, ["lowercase"] = options.LowerCase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]"), new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }, Special("[SEP]")),
                ["pair"] = new JsonArray(Special("[CLS]"), new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }, Special("[SEP]"),
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }, Special("[SEP]")),
                ["special_tokens"] = new JsonObject
                {
                    ["[CLS]"] = new JsonObject { ["id"] = "[CLS]", ["ids"] = new JsonArray(Id("[CLS]")), ["tokens"] = new JsonArray("[CLS]") },
                    ["[SEP]"] = new JsonObject { ["id"] = "[SEP]", ["ids"] = new JsonArray(Id("[SEP]")), ["tokens"] = new JsonArray("[SEP]") },
                },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocabObject,
            },
        };
        return root.ToJsonString();
    }

    /// <summary>A byte-level BPE as RoBERTa's: ids 0-3 are &lt;s&gt; &lt;pad&gt; &lt;/s&gt; &lt;unk&gt;, a few letters,
    /// "Ġ" (the byte-level space) and the merges that build "Hello" (15), "Ġworld" (19); "!" is 21.</summary>
    public const string RobertaBpe = """
        {
          "version": "1.0", "truncation": null, "padding": null,
          "added_tokens": [
            {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
            {"id": 1, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
            {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
            {"id": 3, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true}
          ],
          "normalizer": null,
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
          "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": false},
          "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
          "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": false, "byte_fallback": false,
            "vocab": {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "H": 4, "e": 5, "l": 6, "o": 7, "Ġ": 8, "w": 9, "r": 10, "d": 11,
                      "He": 12, "ll": 13, "Hell": 14, "Hello": 15, "Ġw": 16, "or": 17, "Ġwor": 18, "Ġworld": 19, "ld": 20, "!": 21},
            "merges": ["H e", "l l", "He ll", "Hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
          }
        }
        """;

    /// <summary>A SentencePiece Unigram as XLM-R's: Metaspace ("▁" before every word), &lt;s&gt; $A &lt;/s&gt;,
    /// unknown pieces to &lt;unk&gt; (3). Scores make "▁hello" (5) beat "▁he" + "llo", "▁world" (8) beat "▁wor" + "ld".</summary>
    public const string XlmrUnigram = """
        {
          "version": "1.0", "truncation": null, "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null,
                                                             "pad_id": 1, "pad_type_id": 0, "pad_token": "<pad>"},
          "added_tokens": [
            {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 3, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
          ],
          "normalizer": null,
          "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
          "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}
          },
          "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
          "model": {
            "type": "Unigram", "unk_id": 3, "byte_fallback": false,
            "vocab": [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["▁", -2.0], ["▁hello", -3.0], ["▁he", -2.5],
                      ["llo", -2.5], ["▁world", -3.0], ["▁wor", -2.0], ["ld", -2.0], ["h", -4.0], ["e", -4.0], ["l", -4.0], ["o", -4.0],
                      ["w", -4.0], ["r", -4.0], ["d", -4.0], ["!", -3.0]]
          }
        }
        """;
}
