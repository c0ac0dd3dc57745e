using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AotInfer.Generator;

/// <summary>
/// Compiles ONNX models into C# classes at build time. Two front doors: an <c>AdditionalFiles</c> item with
/// <c>AotInferClass</c>/<c>AotInferNamespace</c>/<c>AotInferDims</c> metadata, and
/// <c>[AotInfer.OnnxModel("path")]</c> on a partial class. This file is the pipeline only: parsing is in
/// <see cref="Parser"/>, compilation and output in <see cref="Emitter"/>.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class OnnxModelGenerator : IIncrementalGenerator
{
    /// <summary>Names of the tracked pipeline steps (tests assert that they are cached on a second run).</summary>
    public static class TrackingNames
    {
        /// <summary>Project properties.</summary>
        public const string ProjectOptions = nameof(ProjectOptions);
        /// <summary>Each model file, read and hashed.</summary>
        public const string ModelFiles = nameof(ModelFiles);
        /// <summary>All model files together (for attribute path resolution).</summary>
        public const string AllModelFiles = nameof(AllModelFiles);
        /// <summary>Each class carrying the attribute.</summary>
        public const string AttributeModels = nameof(AttributeModels);
        /// <summary>The model paths named by attributes.</summary>
        public const string AttributePaths = nameof(AttributePaths);
        /// <summary>Jobs from the attribute form.</summary>
        public const string AttributeJobs = nameof(AttributeJobs);
        /// <summary>Jobs from the metadata form.</summary>
        public const string MetadataJobs = nameof(MetadataJobs);
        /// <summary>The classes all jobs declare (to find duplicates).</summary>
        public const string ClassClaims = nameof(ClassClaims);
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        context.RegisterPostInitializationOutput(Emitter.EmitAttribute);

        var projectOptions = context.AnalyzerConfigOptionsProvider
            .Select(Parser.ParseProjectOptions)
            .WithTrackingName(TrackingNames.ProjectOptions);

        var modelFiles = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) => Parser.ParseModelFile(pair.Left, pair.Right.GetOptions(pair.Left), ct))
            .Where(static file => file is not null)
            .Select(static (file, _) => file!)
            .WithTrackingName(TrackingNames.ModelFiles);

        var allModelFiles = modelFiles.Collect()
            .Select(static (files, _) => files.ToEquatableArray())
            .WithTrackingName(TrackingNames.AllModelFiles);

        var attributeModels = context.SyntaxProvider
            .ForAttributeWithMetadataName(Parser.AttributeMetadataName,
                static (node, _) => node is ClassDeclarationSyntax,
                Parser.ParseAttributeTarget)
            .WithTrackingName(TrackingNames.AttributeModels);

        var attributePaths = attributeModels
            .Select(static (model, _) => model.ModelPath)
            .Collect()
            .Select(static (paths, _) => paths.ToEquatableArray())
            .WithTrackingName(TrackingNames.AttributePaths);

        var attributeJobs = attributeModels
            .Combine(allModelFiles)
            .Combine(projectOptions)
            .Select(static (input, _) => Parser.ResolveAttributeModel(input.Left.Left, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.AttributeJobs);

        var metadataJobs = modelFiles
            .Combine(attributePaths)
            .Combine(projectOptions)
            .Select(static (input, _) => Parser.CreateMetadataJob(input.Left.Left, input.Left.Right, input.Right))
            .Where(static job => job is not null)
            .Select(static (job, _) => job!)
            .WithTrackingName(TrackingNames.MetadataJobs);

        var classClaims = metadataJobs.Select(static (job, _) => job.Claim).Collect()
            .Combine(attributeJobs.Select(static (job, _) => job.Claim).Collect())
            .Select(static (claims, _) => claims.Left.Concat(claims.Right).ToEquatableArray())
            .WithTrackingName(TrackingNames.ClassClaims);

        context.RegisterSourceOutput(metadataJobs.Combine(classClaims).Select(static (x, _) => Parser.CheckClassIsUnique(x.Left, x.Right)), Emitter.Execute);
        context.RegisterSourceOutput(attributeJobs.Combine(classClaims).Select(static (x, _) => Parser.CheckClassIsUnique(x.Left, x.Right)), Emitter.Execute);
    }
}
