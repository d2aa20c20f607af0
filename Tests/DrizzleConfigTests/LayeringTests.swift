import Foundation
import Testing

@testable import DrizzleConfig

@Suite("Layering: flags over environment over file over defaults")
struct LayeringTests {
    @Test("a value in the file overrides the default, and a key the file lacks falls back to its default")
    func fileOverridesDefaultsAndMissingKeysFallBack() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write(
            "partial.yaml",
            """
            net:
              size: 12
            gossip:
              fanout: 5
            """
        )
        let loaded = try DrizzleConfiguration.load(ConfigurationSource(filePath: path))
        var expected = DrizzleConfiguration.defaults
        expected.net.size = 12
        expected.gossip.fanout = 5
        #expect(loaded == expected)
    }

    @Test("a file's bytes given in the source are parsed like the file, and errors name the path given")
    func fileContentsStandInForTheFile() throws {
        let loaded = try DrizzleConfiguration.load(
            ConfigurationSource(
                filePath: "piped.yaml", environment: ["DRIZZLE_GOSSIP_FANOUT": "4"],
                fileContents: Array("net:\n  size: 9\ngossip:\n  fanout: 2\n".utf8)))
        #expect(loaded.net.size == 9)
        #expect(loaded.gossip.fanout == 4)
        #expect(throws: ConfigurationError.unknownKey(path: "piped.yaml", key: "net.sise", suggestion: "net.size")) {
            try DrizzleConfiguration.load(
                ConfigurationSource(filePath: "piped.yaml", fileContents: Array("net:\n  sise: 9\n".utf8)))
        }
    }

    @Test("an environment variable overrides the file")
    func environmentOverridesFile() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("net.yaml", "net:\n  size: 12\ngossip:\n  interval_ms: 300\n")
        let loaded = try DrizzleConfiguration.load(
            ConfigurationSource(
                filePath: path,
                environment: ["DRIZZLE_NET_SIZE": "7", "DRIZZLE_GOSSIP_INTERVAL_MS": "50"]
            )
        )
        #expect(loaded.net.size == 7)
        #expect(loaded.gossip.intervalMilliseconds == 50)
    }

    @Test("a flag overrides the environment and the file")
    func flagOverridesEnvironment() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("net.yaml", "net:\n  size: 12\ngossip:\n  interval_ms: 300\n")
        let loaded = try DrizzleConfiguration.load(
            ConfigurationSource(
                filePath: path,
                environment: ["DRIZZLE_NET_SIZE": "7", "DRIZZLE_GOSSIP_INTERVAL_MS": "70"],
                arguments: ["--net-size", "5", "--gossip-interval-ms=50"]
            )
        )
        #expect(loaded.net.size == 5)
        #expect(loaded.gossip.intervalMilliseconds == 50)
    }

    @Test("the worked example in docs/configuration.md gives the documented result")
    func documentedExample() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write(
            "lab.yaml",
            """
            # lab.yaml
            node:
              host: 10.0.0.5
            net:
              size: 8
            gossip:
              interval_ms: 100
            """
        )
        let loaded = try DrizzleConfiguration.load(
            ConfigurationSource(
                filePath: path,
                environment: ["DRIZZLE_METRICS_LISTEN": "10.0.0.5:9100", "DRIZZLE_NET_SIZE": "10"],
                arguments: ["cluster", "--config", path, "--net-size", "6", "--membership-lifeguard=false"]
            )
        )
        var expected = DrizzleConfiguration.defaults
        expected.node.host = "10.0.0.5"
        expected.net.size = 6
        expected.gossip.intervalMilliseconds = 100
        expected.metrics.listen = "10.0.0.5:9100"
        expected.membership.lifeguard = false
        #expect(loaded == expected)
    }

    @Test("only DRIZZLE_-prefixed variables are read")
    func unprefixedVariablesAreIgnored() throws {
        #expect(try load(environment: ["NET_SIZE": "7", "GOSSIP_FANOUT": "9"]) == DrizzleConfiguration.defaults)
    }

    @Test("every kind of value can be set from the environment")
    func everyKindFromEnvironment() throws {
        let loaded = try load(environment: [
            "DRIZZLE_NODE_HOST": "10.0.0.5",
            "DRIZZLE_NODE_ADVERTISE": "drizzle.example:41000",
            "DRIZZLE_NET_SEEDS": "10.0.0.1:40000, 10.0.0.2:40000",
            "DRIZZLE_MEMBERSHIP_LIFEGUARD": "false",
            "DRIZZLE_GOSSIP_MODE": "pull",
            "DRIZZLE_CLOCK_OFFSET_MS": "-250",
        ])
        #expect(loaded.node.host == "10.0.0.5")
        #expect(loaded.node.advertise == "drizzle.example:41000")
        #expect(loaded.net.seeds == ["10.0.0.1:40000", "10.0.0.2:40000"])
        #expect(loaded.membership.lifeguard == false)
        #expect(loaded.gossip.mode == .pull)
        #expect(loaded.clock.offsetMilliseconds == -250)
    }

    @Test("an empty list variable clears a list the file sets")
    func emptyEnvironmentListClears() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("seeds.yaml", "net:\n  seeds: [10.0.0.1:40000]\n")
        let fromFile = try DrizzleConfiguration.load(ConfigurationSource(filePath: path))
        #expect(fromFile.net.seeds == ["10.0.0.1:40000"])
        let cleared = try DrizzleConfiguration.load(
            ConfigurationSource(filePath: path, environment: ["DRIZZLE_NET_SEEDS": ""])
        )
        #expect(cleared.net.seeds == [])
    }

    @Test("list flags take commas or repeat; a bare boolean flag means true; a negative number is a value")
    func flagForms() throws {
        let loaded = try load(
            environment: ["DRIZZLE_MEMBERSHIP_LIFEGUARD": "false"],
            arguments: [
                "--net-seeds", "a:1,b:2", "--net-seeds", "c:3",
                "--membership-lifeguard",
                "--clock-drift-ppm", "-40",
            ]
        )
        #expect(loaded.net.seeds == ["a:1", "b:2", "c:3"])
        #expect(loaded.membership.lifeguard == true)
        #expect(loaded.clock.driftPPM == -40)
        #expect(try load(arguments: ["--membership-lifeguard=false"]).membership.lifeguard == false)
        #expect(try load(arguments: ["--membership-lifeguard", "false"]).membership.lifeguard == false)
    }

    @Test("arguments the configuration does not know are ignored, not errors")
    func unknownArgumentsAreIgnored() throws {
        let loaded = try load(arguments: [
            "cluster", "--verbose", "--config", "other.yaml", "-x", "--net-size", "5", "positional",
            "--membership-lifeguard", "agent", "--", "--gossip-fanout", "9",
        ])
        var expected = DrizzleConfiguration.defaults
        expected.net.size = 5
        #expect(loaded == expected)
    }

    @Test("a comment-only file and an empty section change nothing")
    func blankFileAndEmptySection() throws {
        let scratch = try ScratchDirectory()
        let blank = try scratch.write("blank.yaml", "# everything commented out\n\n# net:\n#   size: 3\n")
        #expect(try DrizzleConfiguration.load(ConfigurationSource(filePath: blank)) == DrizzleConfiguration.defaults)
        let emptySection = try scratch.write("empty-section.yaml", "gossip:\n  # fanout: 9\nnet:\n  size: 4\n")
        #expect(try DrizzleConfiguration.load(ConfigurationSource(filePath: emptySection)).net.size == 4)
    }

    @Test("ConfigurationSource.process reads the process environment and arguments")
    func processSource() {
        let source = ConfigurationSource.process(filePath: "x.yaml")
        #expect(source.filePath == "x.yaml")
        #expect(source.environment == ProcessInfo.processInfo.environment)
        #expect(source.arguments == Array(CommandLine.arguments.dropFirst()))
    }
}

@Suite("Splitting configuration flags from other arguments")
struct ArgumentSplitTests {
    @Test("configuration flags and their values are separated from everything else, in order")
    func split() {
        let (configuration, remaining) = ConfigurationSource.splitArguments([
            "agent", "--net-size", "5", "--verbose", "--gossip-mode=pull", "--membership-lifeguard", "file.txt",
            "--node-host", "--net-seeds", "a:1", "--", "--net-size", "9",
        ])
        #expect(
            configuration == [
                "--net-size", "5", "--gossip-mode=pull", "--membership-lifeguard", "--node-host", "--net-seeds", "a:1",
            ]
        )
        #expect(remaining == ["agent", "--verbose", "file.txt", "--", "--net-size", "9"])
    }
}

@Suite("Enumerated settings")
struct EnumeratedSettingTests {
    @Test("every gossip.variant value parses", arguments: DrizzleConfiguration.Gossip.Variant.allCases)
    func variant(_ value: DrizzleConfiguration.Gossip.Variant) throws {
        #expect(try load(environment: ["DRIZZLE_GOSSIP_VARIANT": value.rawValue]).gossip.variant == value)
    }

    @Test("every gossip.mode value parses", arguments: DrizzleConfiguration.Gossip.Mode.allCases)
    func mode(_ value: DrizzleConfiguration.Gossip.Mode) throws {
        #expect(try load(arguments: ["--gossip-mode", value.rawValue]).gossip.mode == value)
    }

    @Test("every gossip.transmit_limit value parses", arguments: DrizzleConfiguration.Gossip.TransmitLimit.allCases)
    func transmitLimit(_ value: DrizzleConfiguration.Gossip.TransmitLimit) throws {
        #expect(try load(arguments: ["--gossip-transmit-limit", value.rawValue]).gossip.transmitLimit == value)
    }

    @Test("every size.algorithm value parses", arguments: DrizzleConfiguration.Size.Algorithm.allCases)
    func algorithm(_ value: DrizzleConfiguration.Size.Algorithm) throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("size.yaml", "size:\n  algorithm: \(value.rawValue)\n")
        #expect(try DrizzleConfiguration.load(ConfigurationSource(filePath: path)).size.algorithm == value)
    }

    @Test("every data.store value parses", arguments: DrizzleConfiguration.Data.Store.allCases)
    func store(_ value: DrizzleConfiguration.Data.Store) throws {
        #expect(try load(arguments: ["--data-store", value.rawValue]).data.store == value)
    }

    @Test("every clock.sync value parses", arguments: DrizzleConfiguration.Clock.Sync.allCases)
    func sync(_ value: DrizzleConfiguration.Clock.Sync) throws {
        #expect(try load(environment: ["DRIZZLE_CLOCK_SYNC": value.rawValue]).clock.sync == value)
    }

    @Test("an unknown enum value is rejected, listing the allowed values")
    func unknownValueRejected() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("mode.yaml", "gossip:\n  mode: shout\n")
        #expect(
            loadError(ConfigurationSource(filePath: path))?.description
                == "\(path): gossip.mode: must be one of push, pull, push-pull, found \"shout\" "
                + "(fix the value or remove the key to use the default)"
        )
        #expect(
            loadError(ConfigurationSource(environment: ["DRIZZLE_CLOCK_SYNC": "Average"]))?.description
                == "environment DRIZZLE_CLOCK_SYNC: clock.sync: must be one of average, reference, off, "
                + "found \"Average\" (fix the value or unset DRIZZLE_CLOCK_SYNC)"
        )
        #expect(
            loadError(ConfigurationSource(arguments: ["--size-algorithm", "gossip"]))?.description
                == "flag --size-algorithm: size.algorithm: must be one of push-pull, push-sum, found \"gossip\" "
                + "(fix the value given to --size-algorithm or leave the flag out)"
        )
    }
}
