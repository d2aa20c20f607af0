import DrizzleCore
import DrizzleNode
import Foundation
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Network errors in words")
struct NetworkErrorTests {
    let loopback = NetworkError.Endpoint.address(HostPort(host: "127.0.0.1", port: 40000))

    @Test("each errno SwiftNIO reports becomes one plain line naming the address and what to change")
    func errnoLines() {
        func line(_ code: Int32, _ purpose: NetworkError.Purpose, _ endpoint: NetworkError.Endpoint) -> String {
            NetworkError(IOError(errnoCode: code, reason: "bind(descriptor:ptr:bytes:)"), purpose: purpose, endpoint: endpoint)
                .description
        }
        #expect(
            line(EADDRINUSE, .peers, loopback)
                == "port 40000 on 127.0.0.1 is already in use (another node or program); pick another port (--bind, or node.peer_base_port for the prompt)")
        #expect(
            line(EADDRINUSE, .metrics, .address(HostPort(host: "0.0.0.0", port: 9100)))
                == "port 9100 on 0.0.0.0 is already in use (another node or program); pick another --metrics port")
        #expect(
            line(EADDRNOTAVAIL, .peers, .address(HostPort(host: "10.9.9.9", port: 40000)))
                == "10.9.9.9 is not an address of this machine, so nothing can listen on it; use one of its addresses, or 0.0.0.0 for all (--bind)")
        #expect(
            line(EACCES, .peers, .address(HostPort(host: "0.0.0.0", port: 80)))
                == "port 80 is below 1024, where only root may listen; pick a port from 1024 up (--bind)")
        #expect(line(EACCES, .peers, loopback) == "cannot listen on 127.0.0.1:40000: permission denied")
        #expect(
            line(ENOENT, .controlClient, .path("data/node-1.sock"))
                == "no control socket at data/node-1.sock: is the node running, with this data folder?")
        #expect(
            line(ECONNREFUSED, .controlClient, .path("data/node-1.sock"))
                == "nothing answers on the control socket data/node-1.sock: its node has stopped (the file is left over)")
        #expect(
            line(EACCES, .controlClient, .path("data/node-1.sock"))
                == "the control socket data/node-1.sock belongs to another user (it is owner-only)")
        #expect(line(EMFILE, .peers, loopback) == "cannot listen on 127.0.0.1:40000: too many open files")
        for code in [EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOENT, ECONNREFUSED, EMFILE] {
            for purpose in [NetworkError.Purpose.peers, .metrics, .controlSocket, .controlClient] {
                for endpoint in [loopback, .path("data/x.sock")] {
                    let text = line(code, purpose, endpoint)
                    #expect(!text.contains("errno") && !text.contains("descriptor") && !text.contains("\n"), "\(text)")
                    #expect(text.filter { $0 == "(" }.count == text.filter { $0 == ")" }.count, "\(text)")
                }
            }
        }
    }

    @Test("SwiftNIO's other errors map to their cause: a connect timeout, a path too long, a name that resolves nowhere")
    func otherErrors() {
        #expect(NetworkError.cause(of: ChannelError.connectTimeout(.seconds(2))) == .timedOut)
        #expect(NetworkError.cause(of: SocketAddressError.unixDomainSocketPathTooLong) == .pathTooLong)
        let resolved = NetworkError(purpose: .metrics, endpoint: .address(HostPort(host: "nowhere.invalid", port: 9100)), cause: .hostNotFound)
        #expect(resolved.description == "host 'nowhere.invalid' not found: use an IP address or a name this machine resolves (--metrics)")
    }

    @Test("binding a port another socket holds, or an address of another machine, reports the cause in words")
    func realSockets() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let holder = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(holder.localAddress?.port)
        let endpoint = NetworkError.Endpoint.address(HostPort(host: "127.0.0.1", port: port))
        do {
            _ = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port).get()
            Issue.record("a second listener took port \(port)")
        } catch {
            #expect(NetworkError(error, purpose: .metrics, endpoint: endpoint).cause == .addressInUse)
        }
        do {
            // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
            _ = try await ServerBootstrap(group: group).bind(host: "192.0.2.1", port: 0).get()
            Issue.record("bound 192.0.2.1")
        } catch {
            #expect(NetworkError.cause(of: error) == .addressNotAvailable)
        }
        try await holder.close()
        try await group.shutdownGracefully()
    }
}
