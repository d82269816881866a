import ArgumentParser
import VigilService

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Real-time card-fraud scoring: Kafka in, Redis-backed rolling features, decisions and alerts out.",
        version: BuildInfo.line,
        subcommands: [Serve.self, Demo.self, Bench.self, Train.self, Backfill.self, ModelCommand.self, MerchantRiskCommand.self, Console.self]
    )
}
