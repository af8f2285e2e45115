// Runs a fuzz target over files and directories of inputs without libFuzzer, so the corpus (and
// every past finding kept in it) replays under ctest with g++ and the sanitizers.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                          std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int files = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
                if (!entry.is_regular_file()) continue;
                if (run_file(entry.path()) != 0) return 1;
                ++files;
            }
        } else {
            if (run_file(arg) != 0) return 1;
            ++files;
        }
    }
    if (files == 0) {
        std::fputs("no inputs replayed\n", stderr);
        return 1;
    }
    std::printf("replayed %d inputs\n", files);
    return 0;
}
