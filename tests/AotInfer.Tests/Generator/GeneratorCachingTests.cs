extern alias GeneratorAssembly;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using TrackingNames = GeneratorAssembly::AotInfer.Generator.OnnxModelGenerator.TrackingNames;

namespace AotInfer.Tests.Generator;

/// <summary>
/// Incremental caching: an edit that does not touch a model must not recompile it. Each step the generator names
/// must be Cached or Unchanged on a second run, and no cached value may hold a symbol, a syntax node or a byte array
/// (they would defeat caching or keep whole compilations and models alive).
/// </summary>
public class GeneratorCachingTests
{
    static readonly string[] Steps =
    {
        TrackingNames.ProjectOptions, TrackingNames.ModelFiles, TrackingNames.AllModelFiles, TrackingNames.AttributeModels,
        TrackingNames.AttributePaths, TrackingNames.AttributeJobs, TrackingNames.MetadataJobs, TrackingNames.ClassClaims,
    };

    [Fact]
    public void SecondRunAfterAnUnrelatedEditIsFullyCached()
    {
        using var project = new GeneratorProject()
            .AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu(), className: "AddRelu")
            .AddModel("models/scaled_sigmoid.onnx", GeneratorTestModels.ScaledSigmoid())
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("models/scaled_sigmoid.onnx")]
                public partial class ScaledSigmoid;
                """);
        var compilation = project.CreateCompilation();
        var first = project.CreateDriver().RunGenerators(compilation);
        var firstResult = first.GetRunResult().Results.Single();
        Assert.Empty(firstResult.Diagnostics);
        Assert.Equal(2, firstResult.GeneratedSources.Count(s => s.HintName.StartsWith("Test.App.", StringComparison.Ordinal)));
        foreach (var step in Steps) Assert.True(firstResult.TrackedSteps.ContainsKey(step), $"step {step} is not tracked");

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Test.App; internal static class Unrelated { }", GeneratorProject.ParseOptions));
        var second = first.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in Steps)
            foreach (var run in second.TrackedSteps[step])
                foreach (var (_, reason) in run.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {step} output was {reason}");
        foreach (var (name, runs) in second.TrackedOutputSteps)
            foreach (var run in runs)
                foreach (var (_, reason) in run.Outputs)
                    Assert.True(reason == IncrementalStepRunReason.Cached, $"output step {name} was {reason}");

        foreach (var step in Steps)
            foreach (var run in firstResult.TrackedSteps[step])
                foreach (var (value, _) in run.Outputs)
                    AssertHoldsNoForbiddenType(value, step);
    }

    [Fact]
    public void EditingTheModelFileRecompilesIt()
    {
        using var project = new GeneratorProject().AddModel("models/m.onnx", GeneratorTestModels.AddRelu(), className: "M");
        var compilation = project.CreateCompilation();
        var first = project.CreateDriver().RunGenerators(compilation);
        string before = first.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Test.App.M.g.cs", StringComparison.Ordinal)).ToString();

        // A new driver stands for the next build: the AdditionalText is new, the content differs.
        project.WriteFile("models/m.onnx", GeneratorTestModels.ScaledSigmoid());
        var second = project.CreateDriver().RunGenerators(compilation);
        string after = second.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Test.App.M.g.cs", StringComparison.Ordinal)).ToString();
        Assert.NotEqual(before, after);
        Assert.Contains("Sigmoid", after);
    }

    /// <summary>Walks a cached value's object graph and fails on anything that must not be cached.</summary>
    static void AssertHoldsNoForbiddenType(object? root, string step)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<(object? Value, string Path)>();
        pending.Push((root, step));
        while (pending.Count > 0)
        {
            var (value, path) = pending.Pop();
            if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) continue;
            Assert.False(value is ISymbol, $"{path} holds a symbol ({value.GetType().Name})");
            Assert.False(value is SyntaxNode, $"{path} holds a syntax node ({value.GetType().Name})");
            Assert.False(value is SyntaxTree, $"{path} holds a syntax tree");
            Assert.False(value is Compilation or SemanticModel, $"{path} holds a compilation or semantic model");
            Assert.False(value is byte[], $"{path} holds a byte[]");
            Assert.False(value is Location, $"{path} holds a Location (it keeps its syntax tree alive)");
            if (!value.GetType().IsValueType && !seen.Add(value)) continue;
            if (value is IEnumerable items and not string)
            {
                int i = 0;
                foreach (var item in items) pending.Push((item, $"{path}[{i++}]"));
                continue;
            }
            for (var type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    pending.Push((field.GetValue(value), $"{path}.{field.Name}"));
        }
    }
}
