// swift-tools-version: 6.2
// A small HTTP service that embeds a BitDrizzle node beside a Hummingbird endpoint.
//
// It is its own package, depending on BitDrizzle by path, so that BitDrizzle's own package does
// not depend on Hummingbird: Hummingbird brings swift-distributed-tracing 1.7.3, whose manifest
// makes SwiftPM warn about unhandled CMakeLists.txt files on every build that includes it.
// Build and run from the repository root:
//   swift build --package-path Examples/MembersService
//   Examples/MembersService/.build/debug/drizzle-members-service --help
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder; the repository may be checked out under any name.
let bitDrizzle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
    name: "MembersService",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "drizzle-members-service",
            dependencies: [
                .product(name: "BitDrizzle", package: bitDrizzle),
                .product(name: "DrizzleTerminal", package: bitDrizzle),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources",
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ])
    ],
    swiftLanguageModes: [.v6]
)
