import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Set by Ctrl-C / SIGTERM: every loop of the tool checks it, so an interrupted run still stops Vigil and the
/// throwaway servers and writes what it measured so far.
///
/// A run's own flag has the signals' flag as its parent: a signal stops every run, while a run that stops itself
/// (Vigil died) leaves the next profile of a comparison alone.
final class StopFlag: Sendable {
    private let flag = Locked(false)
    private let sources = Locked<[DispatchSourceSignal]>([])
    private let parent: StopFlag?

    init(parent: StopFlag? = nil) {
        self.parent = parent
    }

    var isSet: Bool { flag.value || parent?.isSet == true }

    func set() { flag.withLock { $0 = true } }

    /// Routes SIGINT and SIGTERM to this flag (once; a second Ctrl-C still only sets it).
    func installSignalHandlers(onSignal: @escaping @Sendable (Int32) -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                set()
                onSignal(signalNumber)
            }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }
}
