import Foundation

/// Runs a command-line tool the test support needs (`redis-cli`, `openssl`) to completion: its exit status and its
/// output (stdout and stderr together), standard input closed.
enum ToolProcess {
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil, hint: String = "")
        throws(RedisServerProcessError) -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw RedisServerProcessError(message: "cannot run \(executable)\(hint): \(error)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
