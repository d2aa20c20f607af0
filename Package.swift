// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "BitDrizzle",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "drizzle", targets: ["drizzle"]),
        .executable(name: "drizzle-keys", targets: ["drizzle-keys"]),
        .library(name: "DrizzleCore", targets: ["DrizzleCore"]),
        .library(name: "DrizzleCrypto", targets: ["DrizzleCrypto"]),
        .library(name: "DrizzleConfig", targets: ["DrizzleConfig"]),
        .library(name: "DrizzleSim", targets: ["DrizzleSim"]),
        .library(name: "DrizzleNode", targets: ["DrizzleNode"]),
        .library(name: "BitDrizzle", targets: ["BitDrizzle"]),
        // Standard output and error that survive a closed pipe, for programs built on BitDrizzle.
        .library(name: "DrizzleTerminal", targets: ["DrizzleTerminal"]),
        // The fuzz targets' bodies; Fuzz/Package.swift links them into libFuzzer (scripts/fuzz).
        .library(name: "DrizzleFuzzing", targets: ["DrizzleFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(
            url: "https://github.com/apple/swift-configuration", from: "1.4.0",
            traits: [.defaults, "YAML", "CommandLineArguments"]),
    ],
    targets: [
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "DrizzleCore", swiftSettings: strict),
        // Standard output and error that survive a closed pipe, and the process's stop requests
        // (signals, a reader gone): the executables' edge.
        .target(name: "DrizzleTerminal", swiftSettings: strict),
        .target(name: "DrizzleCrypto", dependencies: ["CSodium", "DrizzleCore"], swiftSettings: strict),
        .target(
            name: "DrizzleConfig",
            dependencies: ["DrizzleCore", .product(name: "Configuration", package: "swift-configuration")],
            swiftSettings: strict),
        .target(name: "DrizzleSim", dependencies: ["DrizzleCore", "DrizzleCrypto"], swiftSettings: strict),
        .target(
            name: "DrizzleNode",
            dependencies: [
                "DrizzleCore", "DrizzleCrypto", "DrizzleConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        .target(
            name: "BitDrizzle",
            dependencies: [
                "DrizzleCore", "DrizzleCrypto", "DrizzleConfig", "DrizzleNode",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The prompt and the control socket's commands: the library's first client.
        .target(
            name: "DrizzlePrompt",
            dependencies: [
                "BitDrizzle", "DrizzleCore", "DrizzleCrypto", "DrizzleConfig", "DrizzleNode",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "drizzle",
            dependencies: [
                "DrizzleCore", "DrizzleCrypto", "DrizzleConfig", "DrizzleSim", "DrizzleNode", "DrizzlePrompt", "BitDrizzle",
                "CEditLine", "DrizzleTerminal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Examples: built with everything else, so CI checks they compile (docs/api.md). The
        // Hummingbird service is its own package (Examples/MembersService/Package.swift).
        .target(
            name: "DrizzleFuzzing",
            dependencies: [
                "DrizzleCore", "DrizzleCrypto", "DrizzleConfig", "DrizzleSim", "DrizzleNode", "DrizzlePrompt",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "drizzle-chat",
            dependencies: [
                "BitDrizzle", "DrizzleTerminal", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Chat", exclude: ["demo.sh"], swiftSettings: strict),
        .executableTarget(
            name: "drizzle-keys",
            dependencies: [
                "DrizzleCore", "DrizzleCrypto", "DrizzleTerminal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .testTarget(name: "DrizzleCoreTests", dependencies: ["DrizzleCore", "DrizzleCrypto"], swiftSettings: strict),
        .testTarget(name: "DrizzleCryptoTests", dependencies: ["DrizzleCrypto"], swiftSettings: strict),
        .testTarget(name: "DrizzleSimTests", dependencies: ["DrizzleSim", "DrizzleCore"], swiftSettings: strict),
        .testTarget(
            name: "DrizzleNodeTests",
            dependencies: [
                "DrizzleNode", "DrizzlePrompt", "DrizzleCore", "DrizzleCrypto",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "DrizzleConfigTests", dependencies: ["DrizzleConfig"], swiftSettings: strict),
        // Drives the library through its public API only.
        .testTarget(
            name: "BitDrizzleTests",
            dependencies: [
                "BitDrizzle", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "DrizzleFuzzingTests", dependencies: ["DrizzleFuzzing"], swiftSettings: strict),
        .testTarget(name: "DrizzleToolTests", dependencies: ["DrizzleCrypto"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
