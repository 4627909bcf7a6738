import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` probe family with the toolchain's clang and embeds each object in
/// the target as a Swift string (see bpf/embed.sh). Emitting Swift rather than a libbpf skeleton
/// header is deliberate: tools-version 6.1 plugins cannot emit C, and the loader finds maps and
/// programs by name anyway.
@main
struct BPFEmbed: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let clang = try context.tool(named: "clang").url
        let objcopy = try context.tool(named: "llvm-objcopy").url
        let files = try FileManager.default.contentsOfDirectory(
            at: bpfDirectory, includingPropertiesForKeys: nil
        ).sorted { $0.lastPathComponent < $1.lastPathComponent }
        let headers = files.filter { $0.pathExtension == "h" }
        let script = bpfDirectory.appending(path: "embed.sh")
        return files.filter { $0.lastPathComponent.hasSuffix(".bpf.c") }.map { source in
            let family = String(source.lastPathComponent.dropLast(".bpf.c".count))
            let output = context.pluginWorkDirectoryURL.appending(path: "BPFObject+\(family).swift")
            return .buildCommand(
                displayName: "Compiling BPF probe family \(family)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, clang.path, objcopy.path, source.path, output.path,
                            "bpfObject_\(family)"],
                inputFiles: [source, script] + headers,
                outputFiles: [output]
            )
        }
    }
}
