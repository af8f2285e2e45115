# Logging and configuration libraries, as the rest of the build uses them: dcp::spdlog and
# dcp::toml.
#
# With DCP_LEAN_RUNTIME, spdlog is compiled into the binary from its headers (once, in
# spdlog_compiled.cpp), fmt is used header-only and toml++ header-only (one file), and the daemon
# links libstdc++ and libgcc statically: the running process then maps no shared C++ library. A
# C++ program's resident memory is mostly the pages the dynamic linker and start-up touch in
# shared libraries (libstdc++ alone ~1.5 MiB here), so this is where the idle footprint goes
# down. Sanitizer and fuzzing builds keep the shared libraries, which their runtimes expect.
find_package(Threads REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)

set(DCP_LEAN OFF)
if(DCP_LEAN_RUNTIME AND NOT DCP_SANITIZE AND NOT DCP_LIBFUZZER)
    set(DCP_LEAN ON)
endif()

add_library(dcp_spdlog INTERFACE)
add_library(dcp::spdlog ALIAS dcp_spdlog)
add_library(dcp_toml INTERFACE)
add_library(dcp::toml ALIAS dcp_toml)
if(DCP_LEAN)
    get_target_property(_spdlog_inc spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
    get_target_property(_fmt_inc fmt::fmt-header-only INTERFACE_INCLUDE_DIRECTORIES)
    # spdlog's implementation compiled once (spdlog_compiled.cpp), not in every file that logs.
    add_library(dcp_spdlog_compiled STATIC ${CMAKE_CURRENT_LIST_DIR}/spdlog_compiled.cpp)
    target_include_directories(dcp_spdlog_compiled SYSTEM PUBLIC ${_spdlog_inc} ${_fmt_inc})
    target_compile_definitions(dcp_spdlog_compiled PUBLIC SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL
                               FMT_HEADER_ONLY=1)
    target_link_libraries(dcp_spdlog_compiled PUBLIC Threads::Threads)
    target_compile_options(dcp_spdlog_compiled PRIVATE -ffunction-sections -fdata-sections)
    target_link_libraries(dcp_spdlog INTERFACE dcp_spdlog_compiled)
    get_target_property(_toml_inc tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
    target_include_directories(dcp_toml SYSTEM INTERFACE ${_toml_inc})
    target_compile_definitions(dcp_toml INTERFACE TOML_HEADER_ONLY=1)
else()
    target_link_libraries(dcp_spdlog INTERFACE spdlog::spdlog)
    target_link_libraries(dcp_toml INTERFACE tomlplusplus::tomlplusplus)
endif()

# Every function and object in its own section, so that the daemon's link can drop what nothing
# calls: resident memory follows the size of the code more than what runs of it (the kernel maps
# file pages around each one touched).
if(DCP_LEAN)
    add_compile_options(-ffunction-sections -fdata-sections)
endif()

# For the daemon's executable.
function(dcp_lean_link target)
    if(DCP_LEAN)
        target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc -Wl,--as-needed
                            -Wl,--gc-sections)
    endif()
endfunction()
