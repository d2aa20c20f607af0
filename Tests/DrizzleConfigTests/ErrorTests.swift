import Foundation
import Testing

@testable import DrizzleConfig

@Suite("Configuration errors: one line naming the key and where the value came from")
struct ErrorTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    /// The error for a file holding `yaml`, after checking it is one line.
    func fileError(_ yaml: String, name: String = "bad.yaml") throws -> (path: String, message: String?) {
        let path = try scratch.write(name, yaml)
        let message = loadError(ConfigurationSource(filePath: path))?.description
        #expect(message?.contains("\n") == false)
        return (path, message)
    }

    @Test("a value of the wrong type in the file names the file, the key and the value")
    func wrongTypeInFile() throws {
        let (path, message) = try fileError("gossip:\n  fanout: three\n")
        #expect(
            message
                == "\(path): gossip.fanout: expected an integer, found \"three\" "
                + "(fix the value or remove the key to use the default)"
        )
    }

    @Test("an integer in YAML 1.1's base 60 (1:2:3) is refused, however many parts: once a crash in Yams, found by fuzzing")
    func sexagesimalInteger() throws {
        let long = Array(repeating: "1", count: 12).joined(separator: ":")
        let (path, message) = try fileError("membership:\n  probe_interval_ms: \(long)\n")
        #expect(message?.hasPrefix("\(path): membership.probe_interval_ms: expected an integer, found") == true)
        let (shortPath, short) = try fileError("gossip:\n  fanout: 1:30\n", name: "short.yaml")
        #expect(short?.hasPrefix("\(shortPath): gossip.fanout: expected an integer") == true)
    }

    @Test("a list where a single value belongs, and a value where a list belongs, are wrong types")
    func listShapeMismatch() throws {
        let (path, message) = try fileError("node:\n  host: [a, b]\n")
        #expect(message?.hasPrefix("\(path): node.host: expected a string, found [a, b]") == true)
        let (seedsPath, seedsMessage) = try fileError("net:\n  seeds: 10.0.0.1:40000\n", name: "seeds.yaml")
        #expect(
            seedsMessage?.hasPrefix("\(seedsPath): net.seeds: expected a list such as [a, b], found \"10.0.0.1:40000\"")
                == true
        )
    }

    @Test("a wrong type in the environment names the variable and the key")
    func wrongTypeInEnvironment() {
        let error = loadError(ConfigurationSource(environment: ["DRIZZLE_NET_SIZE": "many"]))
        #expect(
            error
                == .wrongType(
                    key: "net.size",
                    origin: .environment("DRIZZLE_NET_SIZE"),
                    expected: "an integer",
                    found: "\"many\""
                )
        )
        #expect(
            error?.description
                == "environment DRIZZLE_NET_SIZE: net.size: expected an integer, found \"many\" "
                + "(fix the value or unset DRIZZLE_NET_SIZE)"
        )
        #expect(
            loadError(ConfigurationSource(environment: ["DRIZZLE_MEMBERSHIP_LIFEGUARD": "maybe"]))?.description
                == "environment DRIZZLE_MEMBERSHIP_LIFEGUARD: membership.lifeguard: expected true or false, "
                + "found \"maybe\" (fix the value or unset DRIZZLE_MEMBERSHIP_LIFEGUARD)"
        )
    }

    @Test("a wrong type on a flag names the flag and the key")
    func wrongTypeOnFlag() {
        #expect(
            loadError(ConfigurationSource(arguments: ["--gossip-interval-ms", "fast"]))?.description
                == "flag --gossip-interval-ms: gossip.interval_ms: expected an integer, found \"fast\" "
                + "(fix the value given to --gossip-interval-ms or leave the flag out)"
        )
        #expect(
            loadError(ConfigurationSource(arguments: ["--net-size"]))?.description
                == "flag --net-size: net.size: expected an integer, found no value "
                + "(fix the value given to --net-size or leave the flag out)"
        )
    }

    @Test("a bad value that a higher layer overrides is not reported")
    func shadowedBadValueIsIgnored() throws {
        let path = try scratch.write("shadowed.yaml", "net:\n  size: lots\n")
        let loaded = try DrizzleConfiguration.load(
            ConfigurationSource(filePath: path, environment: ["DRIZZLE_NET_SIZE": "6"])
        )
        #expect(loaded.net.size == 6)
    }

    @Test(
        "an out-of-range value names the key, what is allowed and what was found",
        arguments: [
            ("net:\n  size: 0\n", "net.size: must be between 1 and 65535, found 0"),
            ("node:\n  peer_base_port: 70000\n", "node.peer_base_port: must be between 1 and 65535, found 70000"),
            ("data:\n  piece_size: 0\n", "data.piece_size: must be between 1 and 8388600, found 0"),
            (
                "gossip:\n  max_datagram_bytes: 100\n",
                "gossip.max_datagram_bytes: must be between 256 and 65507, found 100"
            ),
            (
                "gossip:\n  max_datagram_bytes: 65508\n",
                "gossip.max_datagram_bytes: must be between 256 and 65507, found 65508"
            ),
            ("gossip:\n  fanout: 0\n", "gossip.fanout: must be at least 1, found 0"),
            ("membership:\n  indirect_checks: -1\n", "membership.indirect_checks: must be at least 0, found -1"),
            (
                "data:\n  test_key: 8F3A9C1D2B4E6F70\n",
                "data.test_key: must be 32 hexadecimal digits, found \"8F3A9C1D2B4E6F70\""
            ),
            (
                "data:\n  test_key: 8F3A9C1D2B4E6F708192A3B4C5D6E7FZ\n",
                "data.test_key: must be 32 hexadecimal digits, found \"8F3A9C1D2B4E6F708192A3B4C5D6E7FZ\""
            ),
            ("node:\n  host: \"\"\n", "node.host: must not be empty"),
            (
                "node:\n  advertise: drizzle.example\n",
                "node.advertise: must be host:port with a port in 1...65535, found \"drizzle.example\""
            ),
            (
                "net:\n  seeds: [10.0.0.1:40000, 10.0.0.2]\n",
                "net.seeds: each element must be host:port with a port in 1...65535, found \"10.0.0.2\""
            ),
            (
                "gossip:\n  interval_ms: 86400001\n",
                "gossip.interval_ms: must be between 1 and 86400000, found 86400001"
            ),
            (
                "clock:\n  drift_ppm: 2000000\n",
                "clock.drift_ppm: must be between -1000000 and 1000000, found 2000000"
            ),
        ]
    )
    func outOfRange(yaml: String, problem: String) throws {
        let (path, message) = try fileError(yaml)
        #expect(message == "\(path): \(problem) (fix the value or remove the key to use the default)")
    }

    @Test("settings that must agree with each other are checked together, blaming the key set last")
    func combinations() throws {
        let (path, message) = try fileError("node:\n  peer_base_port: 65530\n")
        #expect(
            message
                == "\(path): node.peer_base_port: 24 nodes (net.size) from node.peer_base_port 65530 "
                + "need ports up to 65553, "
                + "beyond 65535 (fix the value or remove the key to use the default)"
        )
        // A key this version dropped is named as such, not as a typo.
        let (removedPath, removed) = try fileError("node:\n  local_base_port: 50000\n")
        #expect(removed?.hasPrefix("\(removedPath): node.local_base_port: no longer a setting: ") == true, "\(String(describing: removed))")
        #expect(removed?.contains("<data.dir>/<name>.sock") == true)
        #expect(
            loadError(ConfigurationSource(environment: ["DRIZZLE_MEMBERSHIP_PROBE_TIMEOUT_MS": "1500"]))?.description
                == "environment DRIZZLE_MEMBERSHIP_PROBE_TIMEOUT_MS: membership.probe_timeout_ms: "
                + "membership.probe_timeout_ms 1500 must not exceed membership.probe_interval_ms 1000 "
                + "(fix the value or unset DRIZZLE_MEMBERSHIP_PROBE_TIMEOUT_MS)"
        )
    }

    @Test("broken YAML names the file and the parser's complaint on one line")
    func brokenYAML() throws {
        let (path, message) = try fileError("gossip:\n  fanout: [3\n  mode: push\n", name: "broken.yaml")
        let text = try #require(message)
        #expect(text.hasPrefix("\(path): not valid YAML: "))
        #expect(text.hasSuffix(" (fix the syntax)"))
        #expect(text.contains("did not find expected ',' or ']'"))
    }

    @Test("a quoted number or boolean in the file is pointed out as quoted")
    func quotedScalars() throws {
        let (path, message) = try fileError("net:\n  size: \"3\"\n")
        #expect(
            message
                == "\(path): net.size: expected an integer, found \"3\" in quotes "
                + "(fix the value or remove the key to use the default)"
        )
        let (boolPath, boolMessage) = try fileError("membership:\n  lifeguard: 'true'\n", name: "bool.yaml")
        #expect(
            boolMessage?.hasPrefix(
                "\(boolPath): membership.lifeguard: expected true or false, found \"true\" in quotes"
            ) == true
        )
    }

    @Test("a file whose top level is not a mapping is not valid configuration YAML")
    func topLevelNotMapping() throws {
        let (path, message) = try fileError("- just\n- a list\n", name: "list.yaml")
        #expect(message?.hasPrefix("\(path): not valid YAML: ") == true)
    }

    @Test("a missing explicit file is an error naming it")
    func missingFile() {
        let path = scratch.missing("missing.yaml")
        #expect(loadError(ConfigurationSource(filePath: path)) == .fileNotFound(path: path))
        #expect(
            loadError(ConfigurationSource(filePath: path))?.description
                == "\(path): file not found (pass an existing file to --config)"
        )
    }

    @Test("a directory given as the file is an error naming it")
    func directoryAsFile() {
        let path = scratch.url.path
        #expect(
            loadError(ConfigurationSource(filePath: path))?.description
                == "\(path): cannot read the file: it is a directory (check the path and its permissions)"
        )
    }

    @Test("an unknown key in the file is an error naming it, with the nearest known key")
    func unknownKey() throws {
        let (path, message) = try fileError("gossip:\n  fanot: 3\n")
        #expect(
            message
                == "\(path): gossip.fanot: unknown key, did you mean gossip.fanout? "
                + "(fix the spelling or remove the key)"
        )
        let (otherPath, otherMessage) = try fileError("colour: blue\n", name: "other.yaml")
        #expect(
            otherMessage == "\(otherPath): colour: unknown key (remove it; docs/configuration.md lists every key)"
        )
        let (nestedPath, nestedMessage) = try fileError("net:\n  size:\n    nodes: 3\n", name: "nested.yaml")
        #expect(nestedMessage?.hasPrefix("\(nestedPath): net.size.nodes: unknown key") == true)
    }

    @Test("a section given a single value is an error naming the section")
    func sectionWithValue() throws {
        let (path, message) = try fileError("gossip: 5\n")
        #expect(
            message
                == "\(path): gossip: expected a section of keys, found a single value "
                + "(indent the section's keys under gossip:)"
        )
    }
}
