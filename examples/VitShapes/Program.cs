// VitShapes: train a small Vision Transformer on synthetic shapes (--train), then measure whether its explanations
// point at the object: the pointing game for AttnLRP, CP-LRP, input x gradient and a random map. See docs/vit-shapes.md.
using System;

return VitShapes.VitShapesApp.Run(args, Console.Out);
