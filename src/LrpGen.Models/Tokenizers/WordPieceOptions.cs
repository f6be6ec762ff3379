using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Tokenizers;

/// <summary>The choices of BERT's basic tokenizer before WordPiece: lower-casing, accent stripping (NFD, then
/// non-spacing marks removed) and putting spaces around every CJK ideograph.</summary>
public sealed record WordPieceOptions(bool LowerCase, bool StripAccents, bool SplitChineseCharacters)
{
    /// <summary>bert-base-uncased and its descendants (all-MiniLM-L6-v2, arctic-embed-xs): lower case, accents stripped.</summary>
    public static WordPieceOptions Uncased { get; } = new(true, true, true);

    /// <summary>bert-base-cased and its descendants: case and accents kept.</summary>
    public static WordPieceOptions Cased { get; } = new(false, false, true);

    /// <summary>Reads tokenizer_config.json as transformers' BertTokenizer does: do_lower_case (true when absent),
    /// strip_accents (when absent or null it follows do_lower_case), tokenize_chinese_chars (true when absent).
    /// A value of the wrong kind is a one-line error naming the file and the key.</summary>
    public static WordPieceOptions FromTokenizerConfig(string path)
    {
        var reader = new ConfigReader(JsonFile.ReadObject(path), path);
        bool lower = reader.GetBool("do_lower_case", true);
        bool strip = reader.Get("strip_accents") is null ? lower : reader.GetBool("strip_accents", lower);
        return new WordPieceOptions(lower, strip, reader.GetBool("tokenize_chinese_chars", true));
    }
}
