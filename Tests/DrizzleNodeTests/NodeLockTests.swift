import DrizzleNode
import Foundation
import Logging
import NIOPosix
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("One running node per name and data folder")
struct NodeLockTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a second node with a running node's name and data folder is refused before it binds; the name is free once the first stops")
    func secondNodeRefusedBeforeBinding() async throws {
        try await withCluster(["twin"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let options = NodeOptions(name: "twin", keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership())
            let first = try await NodeHost.start(options, group: group, logger: logger)
            // The first node's own port: refused for binding, the second would fail with "in use".
            var twin = options
            twin.bindPort = try #require(first.address.split(separator: ":").last.flatMap { Int($0) })
            await #expect {
                _ = try await NodeHost.start(twin, group: group, logger: logger)
            } throws: { error in
                "\(error)" == "twin is already running in this data folder (pid \(getpid()), lock \(keys)/data/twin.lock); stop it, or pick another name or data folder (--name, --data-dir)"
            }
            await first.shutdown()
            twin.bindPort = 0
            let again = try await NodeHost.start(twin, group: group, logger: logger)
            await again.shutdown()
            try await group.shutdownGracefully()
        }
    }
}
