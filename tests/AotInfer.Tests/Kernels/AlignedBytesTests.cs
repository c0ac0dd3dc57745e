using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AotInfer.Kernels;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The arena and scratch storage of generated code: every span starts on a cache line, holds exactly the requested
/// bytes, starts zeroed, and keeps its address (generated code takes pointers into it) across garbage collections.
/// </summary>
public class AlignedBytesTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(4097)]
    [InlineData(1 << 20)]
    public void SpanIsCacheLineAlignedZeroedAndStable(int length)
    {
        // Several allocations, so that array starts at different offsets within a line are covered.
        for (int i = 0; i < 8; i++)
        {
            var bytes = new AlignedBytes(length);
            var span = bytes.Span;
            Assert.Equal(length, span.Length);
            nint address = AddressOf(bytes.Span);
            Assert.Equal(0, address % 64);
            Assert.True(span.IndexOfAnyExcept((byte)0) < 0);
            span.Fill(0xA5);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Assert.Equal(address, AddressOf(bytes.Span));
            Assert.True(bytes.Span.IndexOfAnyExcept((byte)0xA5) < 0);
        }
    }

    static nint AddressOf(Span<byte> span) => Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(span));

    [Fact]
    public void RejectsNegativeLengths() => Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBytes(-1));
}
