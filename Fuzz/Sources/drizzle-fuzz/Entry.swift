// libFuzzer's entry points. Not main.swift: libFuzzer brings `main`. The target is named by
// DRIZZLE_FUZZ_TARGET; DRIZZLE_FUZZ_WRITE_SEEDS=DIR writes every target's seeds under DIR and exits.
import DrizzleFuzzing
import Foundation

nonisolated(unsafe) private var target: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    if let folder = environment["DRIZZLE_FUZZ_WRITE_SEEDS"] {
        exit(writeSeeds(under: folder))
    }
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    guard let name = environment["DRIZZLE_FUZZ_TARGET"], let chosen = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("drizzle-fuzz: set DRIZZLE_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    target = chosen
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let target else { return 0 }
    if case .broken(let problem) = target.run(Array(UnsafeBufferPointer(start: data, count: size))) {
        FileHandle.standardError.write(Data("drizzle-fuzz: \(target.rawValue): \(problem.prefix(2000))\n".utf8))
        abort()
    }
    return 0
}

/// Writes `DIR/<target>/seed-NNN` for every target; 0 on success.
private func writeSeeds(under folder: String) -> CInt {
    for target in FuzzTarget.allCases {
        let directory = URL(fileURLWithPath: folder).appendingPathComponent(target.rawValue)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (index, seed) in target.seeds.enumerated() {
                let name = "seed-" + String(index + 1).leftPadded(to: 3)
                try Data(seed).write(to: directory.appendingPathComponent(name))
            }
        } catch {
            FileHandle.standardError.write(Data("drizzle-fuzz: cannot write seeds to \(directory.path): \(error)\n".utf8))
            return 1
        }
    }
    return 0
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
