import Foundation
import Testing

@testable import DrizzleConfig

@Suite("Shipped defaults")
struct ShippedDefaultsTests {
    @Test("the shipped config/default.yaml loads and equals DrizzleConfiguration.defaults")
    func shippedFileEqualsDefaults() throws {
        let loaded = try DrizzleConfiguration.load(ConfigurationSource(filePath: shippedDefaultsPath))
        #expect(loaded == DrizzleConfiguration.defaults)
    }

    @Test("the shipped config/default.yaml sets every key, so it does not lean on the built-in defaults")
    func shippedFileSetsEveryKey() throws {
        let text = try String(contentsOfFile: shippedDefaultsPath, encoding: .utf8)
        #expect(Set(Self.leafKeys(inYAML: text)) == Set(Setting.all.map(\.key)))
    }

    @Test("with no file, environment or flags the built-in defaults apply")
    func nothingGivenMeansDefaults() throws {
        #expect(try load() == DrizzleConfiguration.defaults)
    }

    @Test("docs/configuration.md names every key with its environment variable and flag")
    func documentationCoversEveryKey() throws {
        let docs = try String(contentsOf: repositoryRoot.appending(path: "docs/configuration.md"), encoding: .utf8)
        for setting in Setting.all {
            #expect(docs.contains("`\(setting.key)`"), "\(setting.key) is not documented")
            #expect(
                docs.contains("`\(setting.environmentVariable)`"),
                "\(setting.environmentVariable) is not documented"
            )
            #expect(docs.contains("`\(setting.flag)`"), "\(setting.flag) is not documented")
        }
    }

    @Test("config/test_file.txt, the default data.file, ships with a few KB of text")
    func testFileShips() throws {
        let path = repositoryRoot.appending(path: "config").appending(path: DrizzleConfiguration.defaults.data.file)
        let text = try String(contentsOf: path, encoding: .utf8)
        #expect(text.utf8.count >= 2048)
    }

    /// `section.key` for every `key:` indented under a top-level `section:` (the shipped file's shape).
    static func leafKeys(inYAML text: String) -> [String] {
        var section = ""
        var keys: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.prefix { $0 != "#" }
            guard let colon = content.firstIndex(of: ":") else { continue }
            let name = content[..<colon].trimmingCharacters(in: .whitespaces)
            if content.first?.isWhitespace == false {
                section = name
            } else if !name.isEmpty {
                keys.append("\(section).\(name)")
            }
        }
        return keys
    }
}
