/// Everything `vigil console` is told (docs/console.md, "Options"), validated by the command before it starts.
public struct ConsoleConfig: Sendable {
    /// Address to listen on: loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    public var port: Int = 8480
    /// librdkafka properties of the consumer that reads the topics (`bootstrap.servers`, security settings).
    public var consumerKafka: [String: String] = ["bootstrap.servers": "127.0.0.1:9092"]
    /// librdkafka properties of the labels' producer.
    public var producerKafka: [String: String] = ["bootstrap.servers": "127.0.0.1:9092"]
    public var topics = ConsoleTopics()
    public var limits = AlertQueue.Limits()
    public var lookback = ConsoleFeed.Lookback()
    /// How long a label POST waits for Kafka's acknowledgement.
    public var labelTimeoutMs: Int64 = 10_000
    public var credentials: AnalystCredentials

    public init(credentials: AnalystCredentials) {
        self.credentials = credentials
    }
}
