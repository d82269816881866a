// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-loadtest", targets: ["vigil-loadtest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // HTTP (operational endpoints, the analysts' console) only: Hummingbird doubles a clean build (docs/operations.md),
        // so only VigilHTTP and VigilConsole depend on it.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    ],
    targets: [
        // C libraries from Debian packages. Only Kafka/ and Redis/ import these.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // TLS to Redis (hiredis 0.14 has none); only Redis/ imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),

        // Thin wrappers that own every C call.
        .target(name: "Kafka", dependencies: ["CRdKafka"]),
        .target(name: "Redis", dependencies: ["CHiredis", "COpenSSL"]),

        // Pure logic, no I/O: decoding, validation, windows, features, model, scoring.
        .target(name: "VigilCore"),

        // Synthetic card traffic with ground truth (demo, tests, load test).
        .target(name: "VigilTraffic", dependencies: ["VigilCore"]),

        // The pipeline: consume -> state -> score -> produce.
        .target(
            name: "VigilService",
            dependencies: [
                "VigilCore", "Kafka", "Redis", "VigilTraffic",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // The operational HTTP endpoints (/healthz, /readyz, /metrics) on Hummingbird.
        .target(
            name: "VigilHTTP",
            dependencies: [
                "VigilService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // `vigil console`: the fraud analysts' web page (alert queue, labels) on Hummingbird.
        .target(
            name: "VigilConsole",
            dependencies: [
                "VigilCore", "Kafka", "VigilTraining",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The nightly retraining job as a library: reading history, fitting, evaluating, promoting.
        .target(name: "VigilTraining", dependencies: ["VigilCore", "Kafka"]),

        // Load generator and measurement tool (loadtest/).
        .executableTarget(
            name: "vigil-loadtest",
            dependencies: [
                "Kafka", "Redis", "VigilCore", "VigilTraffic", "VigilService", "VigilTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "loadtest/Sources/vigil-loadtest"
        ),

        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilService", "VigilCore", "VigilTraffic", "VigilTraining", "Redis", "VigilHTTP", "VigilConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis"]),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore"]),
        .testTarget(name: "VigilTrafficTests", dependencies: ["VigilTraffic", "VigilCore"]),
        .testTarget(name: "VigilTrainingTests", dependencies: ["VigilTraining", "VigilCore", "VigilTraffic"]),
        .testTarget(name: "VigilConsoleTests", dependencies: ["VigilConsole", "VigilCore", "Kafka", "VigilTraining"]),
        .testTarget(name: "VigilServiceTests", dependencies: ["VigilService", "VigilHTTP", "VigilCore", "VigilTraffic", "VigilTraining", "Kafka", "Redis"]),
    ]
)
