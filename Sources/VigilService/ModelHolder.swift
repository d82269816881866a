import Foundation
import Logging
import Synchronization
import VigilCore

/// The model in force. Swapped atomically: a batch reads it once and scores every record with the same model.
public final class ModelHolder: Sendable {
    let current: Mutex<CompiledModel>
    let source: Mutex<FileFingerprint?>
    public let path: String?

    /// Loads and compiles `path`; throws with the reason if the file is missing or invalid.
    public init(path: String) throws {
        let (model, fingerprint) = try Self.load(path)
        current = Mutex(model)
        source = Mutex(fingerprint)
        self.path = path
    }

    public init(model: CompiledModel) {
        current = Mutex(model)
        source = Mutex(nil)
        path = nil
    }

    public var model: CompiledModel { current.withLock { $0 } }

    public func swap(_ model: CompiledModel) { current.withLock { $0 = model } }

    /// Reloads the file if it changed (or always, with `force`). A bad file is rejected and the running model stays.
    /// Returns the new version if a new model was swapped in.
    @discardableResult
    public func reloadIfChanged(force: Bool = false, logger: Logger) -> String? {
        guard let path else { return nil }
        let fingerprint = FileFingerprint(path: path)
        if !force, fingerprint == source.withLock({ $0 }) { return nil }
        do {
            let (model, loaded) = try Self.load(path)
            source.withLock { $0 = loaded }
            let previous = self.model.version
            swap(model)
            logger.info("model loaded", metadata: [
                "model.path": "\(path)", "model.version": "\(model.version)", "model.previous": "\(previous)",
            ])
            return model.version
        } catch {
            // Remember the bad file so it is not retried every poll, only when it changes again.
            source.withLock { $0 = fingerprint }
            logger.error("model rejected, keeping the running model", metadata: [
                "model.path": "\(path)", "error": "\(error)", "model.version": "\(self.model.version)",
            ])
            return nil
        }
    }

    static func load(_ path: String) throws -> (CompiledModel, FileFingerprint?) {
        let fingerprint = FileFingerprint(path: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError(path: path, reason: "cannot read the file")
        }
        do {
            return (try CompiledModel(ModelFile.parse(data)), fingerprint)
        } catch {
            throw ModelLoadError(path: path, reason: error.description)
        }
    }
}

public struct ModelLoadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "model \(path): \(reason)" }
}

/// Size and modification time of a file, to notice changes cheaply.
struct FileFingerprint: Equatable, Sendable {
    var size: UInt64
    var modified: Double

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? UInt64,
              let date = attributes[.modificationDate] as? Date else { return nil }
        self.size = size
        modified = date.timeIntervalSince1970
    }
}
