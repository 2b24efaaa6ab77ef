// swift-tools-version:6.2
import PackageDescription

/// Every first-party target: Swift 6 language mode (the tools-version default),
/// strict concurrency, and no warnings.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error)
]

let package = Package(
    name: "vigie",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigied", targets: ["vigied"]),
        .executable(name: "vigie", targets: ["vigie"]),
        .executable(name: "vigie-agent", targets: ["vigie-agent"]),
        .library(name: "VigieCore", targets: ["VigieCore"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "VigieStore", targets: ["VigieStore"]),
        .library(name: "VigieConfig", targets: ["VigieConfig"]),
        .library(name: "VigieDaemon", targets: ["VigieDaemon"]),
        .library(name: "VigieTesting", targets: ["VigieTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/onevcat/Rainbow", from: "4.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        .target(name: "VigieCore", swiftSettings: strict),
        .target(
            name: "VigieConfig",
            dependencies: ["VigieCore", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict
        ),
        .target(name: "CCRC32C"),
        .target(
            name: "VigieStore",
            dependencies: [
                "CCRC32C", "VigieCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigieAgent",
            dependencies: [
                "VigieCore", "VigieConfig", "VigieHTTP", "VigieProcess", "VigieStore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigieDaemon",
            dependencies: [
                "VigieCore", "VigieConfig", "VigieHTTP", "VigieProcess", "VigieStore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigieCLI",
            dependencies: [
                "VigieCore", "VigieConfig", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Rainbow", package: "Rainbow"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigieTesting",
            dependencies: [
                "VigieCore", "VigieConfig", "VigieDaemon", "VigieProcess", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "VigieProcess", dependencies: ["VigieCore"], swiftSettings: strict),
        .target(
            name: "VigieHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigieLogging",
            dependencies: ["VigieCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vigied",
            dependencies: [
                "VigieDaemon", "VigieConfig", "VigieCore", "VigieLogging", "VigieProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "vigie", dependencies: ["VigieCLI"], swiftSettings: strict),
        .executableTarget(
            name: "vigie-agent",
            dependencies: [
                "VigieAgent", "VigieConfig", "VigieCore", "VigieLogging", "VigieProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: strict),
        .testTarget(name: "VigieCoreTests", dependencies: ["VigieCore", "VigieTesting"], swiftSettings: strict),
        .testTarget(name: "VigieLoggingTests", dependencies: ["VigieLogging"], swiftSettings: strict),
        .testTarget(
            name: "VigieStoreTests",
            dependencies: ["VigieStore", "VigieCore", "VigieTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(name: "VigieCLITests", dependencies: ["VigieCLI", "VigieCore"], swiftSettings: strict),
        .testTarget(name: "VigieConfigTests", dependencies: ["VigieConfig", "VigieTesting"], swiftSettings: strict),
        .testTarget(
            name: "VigieDaemonTests",
            dependencies: ["VigieDaemon", "VigieTesting", "ZeroMQ"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VigieAgentTests",
            dependencies: [
                "VigieAgent", "VigieConfig", "VigieCore", "VigieStore", "VigieTesting", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["VigieTesting", "VigieCore", "VigieStore", "ZeroMQ"],
            exclude: ["Resources"],
            swiftSettings: strict
        ),
    ]
)
