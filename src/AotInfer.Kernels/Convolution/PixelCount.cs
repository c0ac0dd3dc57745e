namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A compile-time count of pixels (or tiles) per register tile: the channel-vectorised kernels take it as a type
/// parameter so that the JIT unrolls each instantiation into straight-line code with its accumulators in registers.
/// </summary>
internal interface IPixelCount { static abstract int Count { get; } }
internal readonly struct Pixels1 : IPixelCount { public static int Count => 1; }
internal readonly struct Pixels2 : IPixelCount { public static int Count => 2; }
internal readonly struct Pixels3 : IPixelCount { public static int Count => 3; }
internal readonly struct Pixels4 : IPixelCount { public static int Count => 4; }
internal readonly struct Pixels5 : IPixelCount { public static int Count => 5; }
internal readonly struct Pixels6 : IPixelCount { public static int Count => 6; }
internal readonly struct Pixels7 : IPixelCount { public static int Count => 7; }
internal readonly struct Pixels8 : IPixelCount { public static int Count => 8; }
