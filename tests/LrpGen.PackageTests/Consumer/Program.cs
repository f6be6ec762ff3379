// A model that is not part of LrpGen, written against the public contract only: two relevance inputs,
// cross-attention, gating, LayerNorm, a GELU MLP and residuals. It compares the generated relevance with
// TorchSharp autograd with the AttnLRP rules injected by hand, and prints the largest relative difference.
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

torch.manual_seed(0);
var model = new Fusion(16, 4).to(ScalarType.Float64);
var text = torch.randn(2, 5, 16, ScalarType.Float64);
var image = torch.randn(2, 7, 16, ScalarType.Float64);
var weights = torch.randn(2, 5, 16, ScalarType.Float64);

using var pass = model.LrpForward(text, image);
var relevance = pass.Backward(weights);

// Reference: autograd with the rules injected (identity on GELU/sigmoid, std detached, uniform products).
Tensor Identity(Func<Tensor, Tensor> f, Tensor x) { var y = f(x); var s = y.detach() / (x.detach() + 1e-10); var l = x * s; return y.detach() + (l - l.detach()); }
Tensor Half(Tensor x, double k) => x.detach() + (x - x.detach()) / k;
Tensor Norm(LayerNorm ln, Tensor x) { var m = x.mean(new long[] { -1 }, keepdim: true); var v = (x - m).square().mean(new long[] { -1 }, keepdim: true); return (x - m) / (v + 1e-5).sqrt().detach() * ln.weight + ln.bias; }
var t = text.detach().clone().requires_grad_(true);
var im = image.detach().clone().requires_grad_(true);
{
    var q = Half(model.q.call(Norm(model.norm1, t)), 4);
    var k = Half(model.k.call(im), 4);
    var v = Half(model.v.call(im), 2);
    var a = (q.matmul(k.transpose(1, 2)) / Math.Sqrt(16)).softmax(-1).matmul(v);
    var h = t + model.o.call(a);
    var g = Identity(x => x.sigmoid(), model.gate.call(h));
    var mlp = model.fc2.call(Identity(x => nn.functional.gelu(x), model.fc1.call(Norm(model.norm2, h))));
    var y = h + Half(g * mlp, 2);
    (y * weights).sum().backward();
}
double Rel(Tensor a, Tensor b) => (a - b).abs().max().item<double>() / b.abs().max().item<double>();
double diff = Math.Max(Rel(relevance[0], t.detach() * t.grad!), Rel(relevance[1], im.detach() * im.grad!));
Console.WriteLine($"inputs: {string.Join(", ", pass.InputNames)}");
Console.WriteLine($"max relative difference to the autograd reference: {diff:E3}");
return diff <= 1e-6 ? 0 : 1;

[LrpModule]
public partial class Fusion : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear q, k, v, o, gate, fc1, fc2;
    internal readonly LayerNorm norm1, norm2;

    public Fusion(long d, long heads) : base(nameof(Fusion))
    {
        q = nn.Linear(d, d); k = nn.Linear(d, d); v = nn.Linear(d, d); o = nn.Linear(d, d);
        gate = nn.Linear(d, d); fc1 = nn.Linear(d, 2 * d); fc2 = nn.Linear(2 * d, d);
        norm1 = nn.LayerNorm(d); norm2 = nn.LayerNorm(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor text, Tensor image)
    {
        var scores = q.call(norm1.call(text)).matmul(k.call(image).transpose(1, 2)) / Math.Sqrt(16);
        var h = text + o.call(scores.softmax(-1).matmul(v.call(image)));
        var mlp = fc2.call(nn.functional.gelu(fc1.call(norm2.call(h))));
        return h + torch.sigmoid(gate.call(h)) * mlp;
    }
}
