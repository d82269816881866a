import Foundation
import VigilCore

/// Writes model files so that a reader (the service's model watcher) never sees half a file.
public enum ModelOutput {
    /// Writes `model` to `path` atomically (a temporary file in the same directory, then rename), after checking
    /// that the bytes load back through `ModelFile.parse` and `CompiledModel`.
    public static func write(_ model: ModelFile, to path: String) throws {
        let data = try model.encoded()
        _ = try CompiledModel(ModelFile.parse(data))
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Reads and validates a model file; nil when the file does not exist.
    public static func readIfPresent(_ path: String) throws -> ModelFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try ModelFile.parse(Data(contentsOf: URL(fileURLWithPath: path)))
        _ = try CompiledModel(file)
        return file
    }
}
