import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension MockKafkaCluster {
    /// librdkafka's mock broker does not set TCP_NODELAY on the connections it accepts (a real Kafka broker does), so
    /// small responses wait for the peer's delayed ACK: about 40 ms on Linux, in series with every produce
    /// acknowledgement and offset commit. The mock runs in this process, so its sockets are this process's file
    /// descriptors: this sets TCP_NODELAY on every TCP socket of the process, making the mock answer like a broker.
    /// New connections need it again: call it after clients connect, or periodically.
    /// Returns how many sockets have it set.
    @discardableResult
    public static func disableNagleOnProcessSockets() -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return 0 }
        var changed = 0
        for entry in entries {
            guard let fd = Int32(entry),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                  target.hasPrefix("socket:")
            else { continue }
            var type: Int32 = 0
            var domain: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue) else {
                continue
            }
            length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0, domain == AF_INET || domain == AF_INET6
            else { continue }
            var on: Int32 = 1
            if setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 {
                changed += 1
            }
        }
        return changed
    }
}
