/// The argv/argvlen arrays hiredis takes for a command, reused from one command to the next (grown as needed) so that
/// sending allocates nothing here. One per connection; not thread-safe.
final class HiredisArguments {
    private var argv: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private var argvLengths: UnsafeMutablePointer<Int>
    private var argvCapacity: Int
    /// A valid address for commands whose arguments are all empty (an empty Array has no base address).
    private let emptyArgument: UnsafeMutablePointer<CChar>

    init() {
        argvCapacity = 16
        argv = .allocate(capacity: 16)
        argvLengths = .allocate(capacity: 16)
        emptyArgument = .allocate(capacity: 1)
        emptyArgument.initialize(to: 0)
    }

    deinit {
        argv.deallocate()
        argvLengths.deallocate()
        emptyArgument.deallocate()
    }

    /// Points the arrays into the command's single buffer for the duration of `body`.
    func with<R>(
        _ command: RedisCommand,
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<Int>) -> R
    ) -> R {
        let count = command.count
        if count > argvCapacity {
            argv.deallocate()
            argvLengths.deallocate()
            argvCapacity = max(count, argvCapacity * 2)
            argv = .allocate(capacity: argvCapacity)
            argvLengths = .allocate(capacity: argvCapacity)
        }
        return command.storage.withUnsafeBytes { bytes in
            let base = bytes.baseAddress ?? UnsafeRawPointer(emptyArgument)
            var start = 0
            for i in 0..<count {
                let end = command.ends[i]
                argv[i] = (base + start).assumingMemoryBound(to: CChar.self)
                argvLengths[i] = end - start
                start = end
            }
            return body(Int32(count), argv, argvLengths)
        }
    }
}
