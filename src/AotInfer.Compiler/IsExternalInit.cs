// netstandard2.0 lacks this marker type, which C# needs for init-only properties and records.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
