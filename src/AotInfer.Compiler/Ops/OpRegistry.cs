using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Ops;

/// <summary>Every operator the compiler supports, found by domain and op type.</summary>
public sealed class OpRegistry
{
    readonly Dictionary<(string Domain, string OpType), OpLowering> _ops = new();

    /// <summary>The registry with all built-in ops.</summary>
    public static OpRegistry Default { get; } = CreateDefault();

    /// <summary>Adds a lowering under each of its op types.</summary>
    public void Add(OpLowering lowering)
    {
        foreach (var opType in lowering.OpTypes) _ops[(lowering.Domain, opType)] = lowering;
    }

    /// <summary>The lowering for a node, or null when unsupported.</summary>
    public OpLowering? Find(Node node) => _ops.TryGetValue((node.Domain, node.OpType), out var op) ? op : null;

    /// <summary>Supported (domain, op type) pairs, sorted, for documentation.</summary>
    public IEnumerable<(string Domain, string OpType)> Supported => _ops.Keys.OrderBy(k => k.Domain).ThenBy(k => k.OpType, System.StringComparer.Ordinal);

    static OpRegistry CreateDefault()
    {
        var registry = new OpRegistry();
        OpFamilies.RegisterAll(registry);
        return registry;
    }
}
