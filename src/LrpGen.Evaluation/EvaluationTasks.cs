using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.Sentences;

namespace LrpGen.Evaluation;

/// <summary>The inputs of the two evaluations of docs/evaluation.md, made lazily (one model pass each).</summary>
public static class EvaluationTasks
{
    /// <summary>Sentence pairs under all-MiniLM-L6-v2: sentence A explained, B's embedding held fixed.</summary>
    public static IEnumerable<IExplainedInput> Similarity(SentenceSimilarity model, IEnumerable<SentencePair> pairs)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        foreach (var pair in pairs) yield return new SimilarityInput(model, pair.A, pair.B);
    }

    /// <summary>Recall prompts under a trained model: the logit of the correct value token is explained (with
    /// <see cref="RecallTarget.Contrast"/>: minus the mean logit of the queried key's other values), the token that
    /// carries it (the value after the queried key) is the answer position, and the evidence is that value and the
    /// queried key.</summary>
    public static IEnumerable<IAnsweredInput> Recall(CausalLm model, IEnumerable<RecallPrompt> prompts, RecallTarget target = RecallTarget.Logit)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (model.Config.VocabSize < RecallTask.VocabSize)
            throw new ArgumentException($"the model's vocabulary ({model.Config.VocabSize}) is smaller than the recall task's ({RecallTask.VocabSize}).", nameof(model));
        foreach (var prompt in prompts)
            yield return new CausalLmInput(model, prompt.Ids, prompt.Answer, prompt.Ids.Select(id => RecallTask.Vocabulary[(int)id]).ToArray(),
                prompt.AnswerPosition, target == RecallTarget.Contrast ? prompt.Rivals : null, prompt.EvidencePositions);
    }
}

/// <summary>What is explained on a recall prompt.</summary>
public enum RecallTarget
{
    /// <summary>The correct value's logit.</summary>
    Logit,
    /// <summary>The correct value's logit minus the mean logit of the queried key's three other values: what makes
    /// this value win over the other candidates, not what makes any of the key's values likely.</summary>
    Contrast,
}
