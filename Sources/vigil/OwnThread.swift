import Foundation

/// Runs `body` on a thread of its own with a 16 MiB stack and waits for it: for commands whose work blocks (files,
/// librdkafka) or is CPU-bound (fitting), off Swift's cooperative pool.
func runOnOwnThread(name: String, _ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
        let thread = Thread {
            do {
                try body()
                done.resume()
            } catch {
                done.resume(throwing: error)
            }
        }
        thread.name = name
        thread.stackSize = 16 << 20
        thread.start()
    }
}
