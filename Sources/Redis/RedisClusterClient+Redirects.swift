#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension RedisClusterClient {
    /// One command to send again, and how.
    private struct Resend {
        var position: Int
        var target: RedisAddress
        /// Precede it with ASKING (the node is importing the slot).
        var asking: Bool
        /// Precede it with SCRIPT LOAD of this script (the node answered NOSCRIPT).
        var script: RedisScript?
    }

    /// Resends, in rounds, the commands whose replies ask for it: MOVED (to the new owner, recording it in the map),
    /// ASK (ASKING then the command, to the importing node), TRYAGAIN (to the same node after a short pause), and
    /// NOSCRIPT for a script this client knows (loaded, then resent, on the same node). Each round writes to every
    /// node before reading any reply; after ``maxRedirections`` rounds the last reply stands.
    func followRedirections(
        _ results: inout [Result<RedisReply, RedisError>], commands: [RedisCommand], sentTo: [RedisAddress]
    ) {
        var sentTo = sentTo
        var asking: Set<Int> = []
        for round in 0..<Self.maxRedirections {
            var resends: [Resend] = []
            var pause = false
            for position in results.indices {
                guard case .success(let reply) = results[position], reply.errorMessage != nil else { continue }
                let node = sentTo[position]
                switch RedisClusterRedirect(reply, answeringHost: node.host) {
                case .moved(let slot, let owner):
                    map.assign(slot: slot, to: owner)
                    mapIsStale = true
                    asking.remove(position)
                    resends.append(Resend(position: position, target: owner, asking: false))
                case .ask(_, let importer):
                    asking.insert(position)
                    resends.append(Resend(position: position, target: importer, asking: true))
                case .tryAgain:
                    pause = true
                    resends.append(Resend(position: position, target: node, asking: asking.contains(position)))
                case nil:
                    if reply.isNoScript, let script = knownScript(of: commands[position]) {
                        resends.append(
                            Resend(position: position, target: node, asking: asking.contains(position), script: script))
                    }
                }
            }
            if resends.isEmpty { return }
            if pause { usleep(UInt32(10_000 << round)) }
            resend(resends, commands: commands, into: &results, sentTo: &sentTo)
        }
    }

    /// Writes every node's resends, then reads them.
    private func resend(
        _ resends: [Resend], commands: [RedisCommand], into results: inout [Result<RedisReply, RedisError>],
        sentTo: inout [RedisAddress]
    ) {
        struct Batch {
            var commands: [RedisCommand] = []
            /// (position, index of its reply, index of its SCRIPT LOAD reply)
            var items: [(position: Int, reply: Int, load: (index: Int, sha1: String)?)] = []
            var loading: Set<String> = []
            var pending: PendingPipeline?
            var failure: RedisError?
        }
        var order: [RedisAddress] = []
        var batches: [RedisAddress: Batch] = [:]
        for item in resends {
            if batches[item.target] == nil { order.append(item.target) }
            var batch = batches[item.target, default: Batch()]
            var load: (index: Int, sha1: String)?
            if let script = item.script, !batch.loading.contains(script.sha1) {
                batch.loading.insert(script.sha1)
                load = (batch.commands.count, script.sha1)
                batch.commands.append(["SCRIPT", "LOAD", script.source])
            }
            if item.asking { batch.commands.append(["ASKING"]) }
            batch.items.append((item.position, batch.commands.count, load))
            batch.commands.append(commands[item.position])
            batches[item.target] = batch
        }
        for address in order {
            let commands = batches[address]?.commands ?? []
            do {
                batches[address]?.pending = try connection(to: address).startPipeline(commands)
            } catch {
                drop(address)
                batches[address]?.failure = error
            }
        }
        for address in order {
            guard let batch = batches[address] else { continue }
            var replies: [RedisReply] = []
            var failure = batch.failure
            if let pending = batch.pending, failure == nil {
                do {
                    replies = try connections[address].unwrap(address).finishPipeline(pending)
                } catch {
                    drop(address)
                    failure = error
                }
            }
            for item in batch.items {
                sentTo[item.position] = address
                if let failure {
                    results[item.position] = .failure(failure)
                    continue
                }
                if let load = item.load {
                    if case .error(let message) = replies[load.index] {
                        scriptLoadFailure = message
                    } else {
                        connections[address]?.loadedScripts.insert(load.sha1)
                    }
                }
                results[item.position] = .success(replies[item.reply])
            }
        }
    }

    /// The script an EVALSHA runs, if this client was given its source.
    private func knownScript(of command: RedisCommand) -> RedisScript? {
        guard command.count > 1 else { return nil }
        let name = command.name.uppercased()
        guard name == "EVALSHA" || name == "EVALSHA_RO" else { return nil }
        return scripts[String(decoding: command.argument(1), as: UTF8.self)]
    }
}
