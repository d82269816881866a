import ArgumentParser
import Foundation
import VigilService

/// `vigil model`: the models published in Redis for every `vigil serve --model-source redis`. See
/// docs/retraining.md, "Publishing to every instance".
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Show, publish, promote or withdraw the models published in Redis for 'vigil serve --model-source redis'.",
        subcommands: [Show.self, Publish.self, PromoteShadow.self, ClearShadow.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the published active and shadow versions.")
        @OptionGroup var redis: RedisModelOptions

        func run() throws {
            let channel = try redis.channel()
            for slot in ModelSlot.allCases {
                let published = try channel.fetch(slot)
                print("\(slot.rawValue)\t\(published.map { "\($0.version)\t\($0.json.count) bytes" } ?? "none")\t\(channel.jsonKey(slot))")
            }
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a model file: to the active slot (every instance switches to it), or with --shadow to the shadow slot (every instance scores it beside the active model).")
        @OptionGroup var redis: RedisModelOptions
        @Argument(help: "The model file.") var path: String
        @Flag(help: "Publish to the shadow slot instead of the active one.") var shadow = false

        func run() throws {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            let channel = try redis.channel()
            let slot: ModelSlot = shadow ? .shadow : .active
            let changed = try channel.publish(Array(data), to: slot)
            let version = try channel.fetch(slot)?.version ?? "?"
            print(changed ? "published \(version) to \(channel.jsonKey(slot))" : "\(version) was already published to \(channel.jsonKey(slot))")
        }
    }

    struct PromoteShadow: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the shadow model the active one on every instance and empty the shadow slot, in one step.")
        @OptionGroup var redis: RedisModelOptions
        @Option(help: "Promote only if the shadow model is still this version (the one whose shadow metrics you checked).")
        var expectVersion: String?

        func run() throws {
            let channel = try redis.channel()
            let version = try channel.promoteShadow(expecting: expectVersion)
            print("promoted \(version) from \(channel.jsonKey(.shadow)) to \(channel.jsonKey(.active))")
        }
    }

    struct ClearShadow: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw the shadow model: instances stop shadow scoring.")
        @OptionGroup var redis: RedisModelOptions

        func run() throws {
            let channel = try redis.channel()
            try channel.clear(.shadow)
            print("cleared \(channel.jsonKey(.shadow))")
        }
    }
}

struct RedisModelOptions: ParsableArguments {
    @Option(help: "Redis HOST:PORT (env VIGIL_REDIS).")
    var redis = Environment.string("VIGIL_REDIS", "127.0.0.1:6379")

    @Option(help: "Key prefix in Redis, as given to vigil serve (env VIGIL_REDIS_PREFIX).")
    var redisPrefix = Environment.string("VIGIL_REDIS_PREFIX", "vigil")

    @OptionGroup(title: "Redis authentication and TLS")
    var security: RedisSecurityOptions

    func channel() throws -> ModelChannel {
        guard let (host, port) = hostPort(redis) else { throw ValidationError("--redis must be HOST:PORT, got '\(redis)'") }
        return ModelChannel(endpoint: try security.endpoint(host: host, port: port), prefix: redisPrefix, timeoutMs: 5000)
    }
}

/// `HOST:PORT` split, or nil.
func hostPort(_ text: String) -> (String, Int)? {
    guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
          let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
    return (String(text[..<colon]), port)
}
