import DrizzleCore
import Testing

@Suite("host:port")
struct HostPortTests {
    @Test("host:port and [IPv6]:port parse into host and port, and print back the same way")
    func parses() throws {
        let cases: [(text: String, host: String, port: Int)] = [
            ("127.0.0.1:40000", "127.0.0.1", 40000), ("[::1]:7946", "::1", 7946), ("node-a.lan:0", "node-a.lan", 0),
            ("0.0.0.0:65535", "0.0.0.0", 65535), ("[fe80::1%eth0]:1", "fe80::1%eth0", 1),
        ]
        for (text, host, port) in cases {
            let address = try HostPort(parsing: text)
            #expect(address == HostPort(host: host, port: port))
            #expect(address.description == text)
        }
    }

    @Test("text that is not host:port is refused with one line that quotes it and says what is wrong")
    func refuses() {
        let cases: [(text: String, ports: ClosedRange<Int>, line: String)] = [
            ("garbage", 0...65535, "'garbage' is not host:port: no ':' before a port number"),
            (":40000", 0...65535, "':40000' is not host:port: the host before ':' is empty"),
            ("127.0.0.1:99999", 0...65535, "'127.0.0.1:99999' is not host:port: the port must be from 0 to 65535"),
            ("127.0.0.1:0", 1...65535, "'127.0.0.1:0' is not host:port: the port must be from 1 to 65535"),
            ("127.0.0.1:+80", 0...65535, "'127.0.0.1:+80' is not host:port: '+80' is not a port number"),
            ("127.0.0.1:", 0...65535, "'127.0.0.1:' is not host:port: '' is not a port number"),
            ("::1:40000", 0...65535, "'::1:40000' is not host:port: an IPv6 address goes in brackets, as [::1]:40000"),
            ("[::1:40000", 0...65535, "'[::1:40000' is not host:port: '[' without its ']'"),
            ("[::1]40000", 0...65535, "'[::1]40000' is not host:port: no ':' before a port number"),
            ("a b:1", 0...65535, "'a b:1' is not host:port: it contains a space"),
            ("h:123456789012345678901234567890", 0...65535, "'h:123456789012345678901234567890' is not host:port: the port must be from 0 to 65535"),
        ]
        for (text, ports, line) in cases {
            #expect(throws: HostPortError.self) { try HostPort(parsing: text, ports: ports) }
            do {
                _ = try HostPort(parsing: text, ports: ports)
            } catch {
                #expect(error.description == line)
            }
        }
    }
}
