import DrizzleNode
import DrizzlePrompt
import Testing

@Suite("Prompt command parsing")
struct PromptCommandTests {
    @Test("the original's commands parse case-insensitively with their arguments")
    func commands() throws {
        #expect(try PromptCommand(parsing: "h") == .help)
        #expect(try PromptCommand(parsing: "  mm ") == .multiMode)
        #expect(try PromptCommand(parsing: "Ll") == .localListener)
        #expect(try PromptCommand(parsing: "fn") == .findNetwork)
        #expect(try PromptCommand(parsing: "JN") == .joinNetwork)
        #expect(try PromptCommand(parsing: "ln") == .leaveNetwork)
        #expect(try PromptCommand(parsing: "sz") == .size)
        #expect(try PromptCommand(parsing: "ri") == .routingInfo)
        #expect(try PromptCommand(parsing: "mb") == .members)
        #expect(try PromptCommand(parsing: "x") == .exit)
        #expect(try PromptCommand(parsing: "lh 0123456789ABCDEF0123456789ABCDEF") == .locateHash("0123456789ABCDEF0123456789ABCDEF"))
        #expect(try PromptCommand(parsing: "WN My_File.txt 512") == .write(.network, file: "My_File.txt", pieceSize: 512))
        #expect(try PromptCommand(parsing: "wl") == .write(.local, file: nil, pieceSize: nil))
        #expect(try PromptCommand(parsing: "rn ABC") == .read(.network, key: "ABC"))
        #expect(try PromptCommand(parsing: "DL") == .delete(.local, key: nil))
    }

    @Test("bus, clock and key commands: PUB keeps the payload's inner spaces, SUB, UNSUB, EV, CK, KS")
    func busCommands() throws {
        #expect(try PromptCommand(parsing: "pub chat  hello   big world ") == .publish(topic: "chat", payload: "hello   big world"))
        #expect(try PromptCommand(parsing: "SUB chat") == .subscribe("chat"))
        #expect(try PromptCommand(parsing: "sub") == .subscribe(nil))
        #expect(try PromptCommand(parsing: "UNSUB *") == .unsubscribe("*"))
        #expect(try PromptCommand(parsing: "ev") == .events(count: nil))
        #expect(try PromptCommand(parsing: "EV 5") == .events(count: 5))
        #expect(try PromptCommand(parsing: "ck") == .clock)
        #expect(try PromptCommand(parsing: "ks") == .keys)
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "PUB chat") }
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "PUB") }
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "EV -2") }
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "UNSUB") }
    }

    @Test("wrong input gets a one-line hint")
    func errors() {
        #expect(throws: PromptCommand.ParseError.unknown("QQ")) { try PromptCommand(parsing: "QQ 1") }
        #expect(throws: PromptCommand.ParseError.empty) { try PromptCommand(parsing: "   ") }
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "LH") }
        #expect(throws: PromptCommand.ParseError.self) { try PromptCommand(parsing: "WN file.txt -3") }
        #expect(PromptCommand.ParseError.unknown("QQ").description == "unknown command 'QQ' — type H for the list of commands")
    }

    @Test("H lists every command")
    func catalog() {
        let listed = PromptCommand.catalog.map { $0.command.split(separator: " ")[0] }
        for command in ["H", "LL", "MM", "FN", "LH", "JN", "LN", "SZ", "RI", "MB", "W[L|N]", "R[L|N]", "D[L|N]", "PUB", "SUB", "UNSUB", "EV", "CK", "KS", "X"] {
            #expect(listed.contains(Substring(command)), "\(command) missing from H")
        }
    }
}
