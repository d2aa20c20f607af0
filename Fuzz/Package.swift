// swift-tools-version: 6.2
// The libFuzzer executable for BitDrizzle's parsers. Its own package, because an executable built
// with `-sanitize=fuzzer` takes its `main` from libFuzzer and would not link in a normal build.
// The target bodies live in the root package's DrizzleFuzzing library (the test suite replays the
// corpus through them). Build and run with scripts/fuzz; docs/security.md has the figures.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder; the repository may be checked out under any name.
let bitDrizzle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("..").standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
    name: "DrizzleFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "drizzle-fuzz",
            dependencies: [.product(name: "DrizzleFuzzing", package: bitDrizzle)],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("InternalImportsByDefault")])
    ],
    swiftLanguageModes: [.v6]
)
