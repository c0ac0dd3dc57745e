using System;
using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Elementwise;

/// <summary>Registers the element-wise ops: arithmetic, comparison, logic, math functions and activations.</summary>
public static class ElementwiseFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new BinaryLowering("Add", "AddOperator", BinaryKind.Arithmetic, (a, b) => a + b, (a, b) => a + b);
        yield return new BinaryLowering("Sub", "SubtractOperator", BinaryKind.Arithmetic, (a, b) => a - b, (a, b) => a - b);
        yield return new BinaryLowering("Mul", "MultiplyOperator", BinaryKind.Arithmetic, (a, b) => a * b, (a, b) => a * b);
        yield return new BinaryLowering("Div", "DivideOperator", BinaryKind.Arithmetic, (a, b) => a / b, (a, b) => b == 0 ? 0 : a / b);
        yield return new BinaryLowering("Pow", "PowOperator", BinaryKind.Arithmetic);
        yield return new BinaryLowering("PRelu", "PReluOperator", BinaryKind.Arithmetic);
        yield return new BinaryLowering("Equal", "EqualOperator", BinaryKind.Comparison, (a, b) => a == b ? 1 : 0, (a, b) => a == b ? 1 : 0);
        yield return new BinaryLowering("Less", "LessOperator", BinaryKind.Comparison, (a, b) => a < b ? 1 : 0, (a, b) => a < b ? 1 : 0);
        yield return new BinaryLowering("LessOrEqual", "LessOrEqualOperator", BinaryKind.Comparison, (a, b) => a <= b ? 1 : 0, (a, b) => a <= b ? 1 : 0);
        yield return new BinaryLowering("Greater", "GreaterOperator", BinaryKind.Comparison, (a, b) => a > b ? 1 : 0, (a, b) => a > b ? 1 : 0);
        yield return new BinaryLowering("GreaterOrEqual", "GreaterOrEqualOperator", BinaryKind.Comparison, (a, b) => a >= b ? 1 : 0, (a, b) => a >= b ? 1 : 0);
        yield return new BinaryLowering("And", "AndOperator", BinaryKind.Logical, (a, b) => a != 0 && b != 0 ? 1 : 0, (a, b) => a != 0 && b != 0 ? 1 : 0);
        yield return new BinaryLowering("Or", "OrOperator", BinaryKind.Logical, (a, b) => a != 0 || b != 0 ? 1 : 0, (a, b) => a != 0 || b != 0 ? 1 : 0);
        yield return new BinaryLowering("Xor", "XorOperator", BinaryKind.Logical, (a, b) => (a != 0) ^ (b != 0) ? 1 : 0, (a, b) => (a != 0) ^ (b != 0) ? 1 : 0);

        yield return new UnaryLowering("Not", "NotOperator", UnaryTypes.Bool);
        yield return new UnaryLowering("Abs", "AbsOperator", UnaryTypes.Numeric, evaluate: Math.Abs);
        yield return new UnaryLowering("Neg", "NegateOperator", UnaryTypes.Signed, evaluate: x => -x);
        yield return new UnaryLowering("Exp", "ExpOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Log", "LogOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Sqrt", "SqrtOperator", UnaryTypes.Float, evaluate: Math.Sqrt);
        yield return new UnaryLowering("Reciprocal", "ReciprocalOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Sin", "SinOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Cos", "CosOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Tan", "TanOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Asin", "AsinOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Acos", "AcosOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Atan", "AtanOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Sinh", "SinhOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Cosh", "CoshOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Tanh", "TanhOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Asinh", "AsinhOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Acosh", "AcoshOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Atanh", "AtanhOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Floor", "FloorOperator", UnaryTypes.Float, evaluate: Math.Floor);
        yield return new UnaryLowering("Ceil", "CeilOperator", UnaryTypes.Float, evaluate: Math.Ceiling);
        yield return new UnaryLowering("Round", "RoundOperator", UnaryTypes.Float, evaluate: x => Math.Round(x, MidpointRounding.ToEven));
        yield return new UnaryLowering("Sign", "SignOperator", UnaryTypes.Numeric, evaluate: x => Math.Sign(x));
        yield return new UnaryLowering("Erf", "ErfOperator", UnaryTypes.Float);
        yield return new UnaryLowering("IsNaN", "IsNaNOperator", UnaryTypes.Float, boolOutput: true);
        yield return new UnaryLowering("IsInf", "IsInfOperator", UnaryTypes.Float,
            op => new double[] { op.Attributes.Int("detect_negative", 1), op.Attributes.Int("detect_positive", 1) }, boolOutput: true, boolArguments: true);
        yield return new UnaryLowering("Relu", "ReluOperator", UnaryTypes.Signed, evaluate: x => Math.Max(x, 0));
        yield return new UnaryLowering("Sigmoid", "SigmoidOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Softplus", "SoftplusOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Softsign", "SoftsignOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Elu", "EluOperator", UnaryTypes.Float, op => new double[] { op.Attributes.Float("alpha", 1f) });
        yield return new UnaryLowering("Selu", "SeluOperator", UnaryTypes.Float,
            op => new double[] { op.Attributes.Float("alpha", 1.67326319217681884765625f), op.Attributes.Float("gamma", 1.05070102214813232421875f) });
        yield return new UnaryLowering("LeakyRelu", "LeakyReluOperator", UnaryTypes.Float, op => new double[] { op.Attributes.Float("alpha", 0.01f) });
        yield return new UnaryLowering("HardSigmoid", "HardSigmoidOperator", UnaryTypes.Float,
            op => new double[] { op.Attributes.Float("alpha", 0.2f), op.Attributes.Float("beta", 0.5f) });
        yield return new UnaryLowering("HardSwish", "HardSwishOperator", UnaryTypes.Float);
        yield return new UnaryLowering("ThresholdedRelu", "ThresholdedReluOperator", UnaryTypes.Float, op => new double[] { op.Attributes.Float("alpha", 1f) });
        yield return new UnaryLowering("Celu", "CeluOperator", UnaryTypes.Float, op => new double[] { op.Attributes.Float("alpha", 1f) });
        yield return new UnaryLowering("Mish", "MishOperator", UnaryTypes.Float);
        yield return new UnaryLowering("Swish", "SwishOperator", UnaryTypes.Float, op => new double[] { op.Attributes.Float("alpha", 1f) });
        yield return new UnaryLowering("Shrink", "ShrinkOperator", UnaryTypes.Numeric,
            op => new double[] { op.Attributes.Float("bias", 0f), op.Attributes.Float("lambd", 0.5f) });
    }
}
