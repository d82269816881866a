import Foundation
import Synchronization
import VigilService

/// Option defaults can come from the environment (`VIGIL_*`), so containers and systemd units need no flags.
///
/// ArgumentParser evaluates the defaults while it builds a command, before any code of ours runs, so a variable that
/// is set but unusable cannot stop Vigil there: it is recorded (`VigilEnvironment`), the default stands in, and the
/// command reports every recorded problem with its other configuration errors (`PipelineOptions.config()`).
enum Environment {
    private static let shared = Mutex(VigilEnvironment())

    static func string(_ name: String, _ fallback: String) -> String {
        shared.withLock { $0.string(name, fallback) }
    }

    /// The variable's value; nil when it is unset or empty.
    static func optionalString(_ name: String) -> String? {
        shared.withLock { $0.value(name) }
    }

    static func int(_ name: String, _ fallback: Int) -> Int {
        shared.withLock { $0.int(name, fallback) }
    }

    static func bool(_ name: String, _ fallback: Bool) -> Bool {
        shared.withLock { $0.bool(name, fallback) }
    }

    /// Every variable of the process's environment (for the `VIGIL_KAFKA_*` settings, `KafkaSettings`).
    static var variables: [String: String] { shared.withLock { $0.variables } }

    /// The variables read so far that are set but unusable, one line each.
    static var problems: [String] { shared.withLock { $0.problemLines } }
}
