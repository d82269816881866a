/// Which master serves each of the 16384 slots, as one node last reported it (`CLUSTER SLOTS`), plus what
/// redirections taught since. A value with no I/O.
struct RedisClusterSlotMap: Sendable, Equatable {
    /// The masters, in the order the report named them.
    private(set) var masters: [RedisAddress] = []
    /// Replicas the report named (candidates for asking the map again when masters do not answer).
    private(set) var replicas: [RedisAddress] = []
    /// `owners[slot]` is an index into `masters`, or -1 where no master serves the slot.
    private var owners = [Int16](repeating: -1, count: RedisSlot.count)

    init() {}

    /// The map in a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], [replica host, port, ...], ...], ...]`.
    /// A node whose host is empty, NULL or `?` (unknown to the cluster) is taken to be on `answeringHost`, the host
    /// that was asked, as the command's documentation says. `nil` if the reply is not of that shape.
    init?(slotsReply reply: RedisReply, answeringHost: String) {
        guard let ranges = reply.array else { return nil }
        for range in ranges {
            guard let fields = range.array, fields.count >= 3,
                  let start = fields[0].int, let end = fields[1].int,
                  start >= 0, end < RedisSlot.count, start <= end,
                  let master = Self.address(fields[2], answeringHost: answeringHost)
            else { return nil }
            let index = masterIndex(master)
            for slot in Int(start)...Int(end) { owners[slot] = index }
            for field in fields.dropFirst(3) {
                if let replica = Self.address(field, answeringHost: answeringHost), !replicas.contains(replica) {
                    replicas.append(replica)
                }
            }
        }
        replicas.removeAll { masters.contains($0) }
    }

    /// The master serving `slot`, if the map knows one.
    func owner(ofSlot slot: Int) -> RedisAddress? {
        let index = owners[slot]
        return index < 0 ? nil : masters[Int(index)]
    }

    /// The number of slots some master serves (16384 in a healthy cluster).
    var coveredSlots: Int { owners.reduce(0) { $0 + ($1 < 0 ? 0 : 1) } }

    /// Records that `address` now serves `slot` (a MOVED redirection).
    mutating func assign(slot: Int, to address: RedisAddress) {
        owners[slot] = masterIndex(address)
        replicas.removeAll { $0 == address }
    }

    private mutating func masterIndex(_ address: RedisAddress) -> Int16 {
        if let index = masters.firstIndex(of: address) { return Int16(index) }
        masters.append(address)
        return Int16(masters.count - 1)
    }

    /// `[host, port, ...]` of one node.
    private static func address(_ node: RedisReply, answeringHost: String) -> RedisAddress? {
        guard let fields = node.array, fields.count >= 2, let port = fields[1].int, port > 0 else { return nil }
        let host = fields[0].string ?? ""
        return RedisAddress(host: host.isEmpty || host == "?" ? answeringHost : host, port: Int(port))
    }
}

/// A cluster's answer that a command must go elsewhere, or again.
enum RedisClusterRedirect: Equatable, Sendable {
    /// `MOVED slot host:port`: the slot now lives there for good; update the map and resend there.
    case moved(slot: Int, to: RedisAddress)
    /// `ASK slot host:port`: the slot is migrating and this key is already there; send `ASKING` then the command
    /// there, once, without changing the map.
    case ask(slot: Int, to: RedisAddress)
    /// `TRYAGAIN`: a multi-key command during a migration whose keys are split between the two nodes; retry shortly.
    case tryAgain

    /// The redirection an error reply asks for, if any. An empty host (`MOVED 3999 :6380`, a node that does not know
    /// its own address) means the host that answered.
    init?(_ reply: RedisReply, answeringHost: String) {
        guard let message = reply.errorMessage else { return nil }
        let words = message.split(separator: " ")
        guard let code = words.first else { return nil }
        if code == "TRYAGAIN" {
            self = .tryAgain
            return
        }
        guard code == "MOVED" || code == "ASK", words.count >= 3, let slot = Int(words[1]), slot >= 0,
              slot < RedisSlot.count,
              let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        var host = String(words[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let address = RedisAddress(host: host.isEmpty ? answeringHost : host, port: port)
        self = code == "MOVED" ? .moved(slot: slot, to: address) : .ask(slot: slot, to: address)
    }
}
