/// A Redis command as binary-safe arguments, the first being the command name.
///
/// All arguments share one contiguous byte buffer plus an array of end offsets, so building a command costs
/// two allocations however many arguments it has; ``reserveCapacity(arguments:bytes:)`` can bring that to
/// zero growth on a hot path.
public struct RedisCommand: Sendable, Equatable {
    /// Every argument's bytes, back to back.
    private(set) var storage: [UInt8]
    /// `ends[i]` is the offset in `storage` one past the last byte of argument `i`.
    private(set) var ends: [Int]

    /// A command with just its name; append arguments after it.
    public init(_ name: String) {
        storage = Array(name.utf8)
        ends = [storage.count]
    }

    /// A command from text parts, the first being the name: `RedisCommand(["SET", "k", "v"])`.
    public init(_ parts: [String]) {
        storage = []
        ends = []
        ends.reserveCapacity(parts.count)
        for part in parts { append(part) }
    }

    /// The number of arguments, counting the command name.
    public var count: Int { ends.count }

    /// The bytes of argument `index` (0 is the command name).
    public func argument(_ index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : ends[index - 1]
        return storage[start..<ends[index]]
    }

    /// The command name as text, for logs and metrics (never the arguments, which may hold card data).
    public var name: String {
        ends.isEmpty ? "" : String(decoding: argument(0), as: UTF8.self)
    }

    /// Reserves room for this many more arguments and bytes, so that appending them does not reallocate.
    public mutating func reserveCapacity(arguments: Int, bytes: Int) {
        ends.reserveCapacity(ends.count + arguments)
        storage.reserveCapacity(storage.count + bytes)
    }

    /// Appends a text argument as UTF-8.
    public mutating func append(_ s: String) {
        storage.append(contentsOf: s.utf8)
        ends.append(storage.count)
    }

    /// Appends a binary argument.
    public mutating func append(_ bytes: [UInt8]) {
        storage.append(contentsOf: bytes)
        ends.append(storage.count)
    }

    /// Appends a binary argument.
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        storage.append(contentsOf: bytes)
        ends.append(storage.count)
    }

    /// Appends one argument made of `prefix` followed by `bytes` (a key in a namespace), without building it first.
    public mutating func append(_ prefix: [UInt8], _ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: prefix)
        storage.append(contentsOf: bytes)
        ends.append(storage.count)
    }

    /// Appends a binary argument copied from memory the caller owns.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
        ends.append(storage.count)
    }

    /// Appends an integer as decimal text, as Redis expects for counts, TTLs and scores; no String is made.
    public mutating func append(_ n: Int64) {
        if n == 0 {
            storage.append(UInt8(ascii: "0"))
            ends.append(storage.count)
            return
        }
        if n < 0 { storage.append(UInt8(ascii: "-")) }
        // magnitude handles Int64.min, whose negation does not fit in Int64.
        var value = n.magnitude
        let firstDigit = storage.count
        while value > 0 {
            storage.append(UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        }
        storage[firstDigit...].reverse()
        ends.append(storage.count)
    }

    /// Appends an integer as decimal text.
    public mutating func append(_ n: Int) {
        append(Int64(n))
    }
}

extension RedisCommand: ExpressibleByArrayLiteral {
    /// `let get: RedisCommand = ["GET", "key"]`
    public init(arrayLiteral parts: String...) {
        self.init(parts)
    }
}

extension RedisCommand {
    /// An `EVALSHA` of `script` with `keyCount` keys still to append, then its arguments:
    ///
    ///     var command = RedisCommand(evalSHA: script, keyCount: 1)
    ///     command.append(cardKey)
    ///     command.append(amountCents)
    ///
    /// For pipelining scripts; see ``RedisConnection/load(_:)`` and ``RedisReply/isNoScript``.
    public init(evalSHA script: RedisScript, keyCount: Int) {
        self.init("EVALSHA")
        append(script.sha1)
        append(Int64(keyCount))
    }

    /// An `EVALSHA` of `script` with these keys and arguments.
    public init(evalSHA script: RedisScript, keys: [[UInt8]], args: [[UInt8]]) {
        self.init(evalSHA: script, keyCount: keys.count)
        reserveCapacity(
            arguments: keys.count + args.count,
            bytes: keys.reduce(0) { $0 + $1.count } + args.reduce(0) { $0 + $1.count }
        )
        for key in keys { append(key) }
        for arg in args { append(arg) }
    }
}
