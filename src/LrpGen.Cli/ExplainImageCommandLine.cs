using System.CommandLine;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen explain-image</c>: its arguments and options (one field each) and the binding to
/// <see cref="ExplainImageOptions"/>. An option is added here as a field, an entry in the command's list and a line in
/// <see cref="Bind"/>.</summary>
internal sealed class ExplainImageCommandLine
{
    private readonly Argument<string> _modelDir = new("model-dir") { Description = "A ViT folder: config.json (image_size, patch_size, ...) and model.safetensors with torchvision's names." };
    private readonly Argument<string?> _image = new("image") { Description = "A PNG or JPEG image (or give --pixels).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _pixels = new("--pixels") { Description = "A safetensors file with a float tensor 'pixels' [1, 3, H, W], used as is.", HelpName = "FILE" };
    private readonly Option<long?> _target = CommonOptions.Target("The class whose logit is explained (default: the top class).");
    private readonly ChoiceOption<LrpMethod> _method = CommonOptions.Method("The explanation: attnlrp (LXT's ViT recipe), cplrp or gradx.");
    private readonly Option<double?> _gammaConv = new("--gamma-conv") { Description = "Gamma of the patch embedding (default: config.json's gamma_conv, else 0.25).", HelpName = "G" };
    private readonly Option<double?> _gammaLinear = new("--gamma-linear") { Description = "Gamma of the MLP and head linears (default: config.json's gamma_linear, else 0.05).", HelpName = "G" };
    private readonly Option<string?> _out = CommonOptions.OutputFile("--out", "Write the heatmap (and the image beside it) as PNG or JPEG, by the name's extension (.png, .jpg, .jpeg).");
    private readonly Option<string?> _json = CommonOptions.OutputFile("--json", "Write {target, logit, relevance_map} as JSON.");
    private readonly Option<int?> _topK = CommonOptions.Integer("--top-k", "Explain the K most probable classes in one pass (one forward, one batched backward): "
        + "one heatmap per class, named NAME.top1-class7.png, ...; --json lists them.", "K", null, 1);
    private readonly Option<long?> _maxMemory = CommonOptions.MaxMemory("A model whose estimated peak exceeds it is refused before it is loaded.");

    public Command Command { get; }

    public ExplainImageCommandLine(CliConsole console)
    {
        Command = new Command("explain-image", "Explain a Vision Transformer's class logit at the pixels of an image file or a --pixels tensor.")
        {
            _modelDir, _image, _pixels, _target, _method, _gammaConv, _gammaLinear, _out, _json, _topK, _maxMemory,
        };
        Command.SetAction(parse => new ExplainImageCommand(console.Stdout, console.Stderr).Run(Bind(parse)));
    }

    internal ExplainImageOptions Bind(ParseResult parse) => new()
    {
        ModelDir = parse.GetRequiredValue(_modelDir),
        ImagePath = parse.GetValue(_image),
        PixelsPath = parse.GetValue(_pixels),
        Target = parse.GetValue(_target),
        Method = _method.ValueIn(parse),
        GammaConv = parse.GetValue(_gammaConv),
        GammaLinear = parse.GetValue(_gammaLinear),
        OutPath = parse.GetValue(_out),
        JsonPath = parse.GetValue(_json),
        TopK = parse.GetValue(_topK),
        MaxMemory = parse.GetValue(_maxMemory),
    };
}
