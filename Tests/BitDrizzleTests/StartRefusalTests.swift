import BitDrizzle
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("BitDrizzle library: a node that cannot start says why in one line", .serialized)
struct StartRefusalTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a second node with a running node's name and data folder fails with alreadyRunning, naming the pid and the lock file")
    func sameNameAndFolder() async throws {
        let (folder, configuration) = try scratchCluster(["twin"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = BitDrizzleNode(configuration: configuration, name: "twin", bind: "127.0.0.1:0", seeds: [], logger: logger)
        try await first.start()
        let second = BitDrizzleNode(configuration: configuration, name: "twin", bind: "127.0.0.1:0", seeds: [], logger: logger)
        await #expect {
            try await second.start()
        } throws: { error in
            guard let refusal = error as? BitDrizzleError,
                case .alreadyRunning(name: "twin", pid: getpid(), lockFile: "\(folder)/data/twin.lock") = refusal
            else { return false }
            return refusal.description
                == "twin is already running in this data folder (pid \(getpid()), lock \(folder)/data/twin.lock); stop it, or pick another name or data folder (--name, --data-dir)"
        }
        #expect(await second.isRunning == false)
        await first.stop()
        // Once the first has stopped, the name is free again.
        let third = BitDrizzleNode(configuration: configuration, name: "twin", bind: "127.0.0.1:0", seeds: [], logger: logger)
        try await third.start()
        await third.stop()
    }

    @Test("a bind address that does not parse, a port in use, an address of another machine and a seed by name fail with one plain line each")
    func unusableAddresses() async throws {
        let (folder, configuration) = try scratchCluster(["holder", "other"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let holder = BitDrizzleNode(configuration: configuration, name: "holder", bind: "127.0.0.1:0", seeds: [], logger: logger)
        try await holder.start()
        let address = try #require(await holder.address)
        let port = try #require(address.split(separator: ":").last.map(String.init))
        let expected: [(bind: String, reason: String)] = [
            ("garbage", "bind 'garbage' is not host:port: no ':' before a port number"),
            ("127.0.0.1:\(port)", "port \(port) on 127.0.0.1 is already in use (another node or program); pick another port (--bind, or node.peer_base_port for the prompt)"),
            ("192.0.2.1:0", "192.0.2.1 is not an address of this machine, so nothing can listen on it; use one of its addresses, or 0.0.0.0 for all (--bind)"),
        ]
        for (bind, reason) in expected {
            let node = BitDrizzleNode(configuration: configuration, name: "other", bind: bind, seeds: [], logger: logger)
            await #expect {
                try await node.start()
            } throws: { error in
                (error as? BitDrizzleError)?.description == "the node cannot start: \(reason)"
            }
        }
        let named = BitDrizzleNode(configuration: configuration, name: "other", bind: "127.0.0.1:0", seeds: ["localhost:26899"], logger: logger)
        await #expect {
            try await named.start()
        } throws: { error in
            (error as? BitDrizzleError)?.description
                == "the node cannot start: seed 'localhost:26899': 'localhost' is not an IP address (peer addresses are used as written, never looked up)"
        }
        await holder.stop()
    }
}
