# Bpf.cmake: compile bpf/NAME.bpf.c with clang -target bpf and generate NAME.skel.h with bpftool.
#
# rail_add_bpf_object(NAME) creates:
#   - ${CMAKE_CURRENT_BINARY_DIR}/NAME.bpf.o   the BPF ELF object (BTF included, -g);
#   - ${CMAKE_CURRENT_BINARY_DIR}/NAME.skel.h  the libbpf skeleton (bpftool gen skeleton);
#   - rail_bpf_NAME: an INTERFACE library. Linking it adds the skeleton's include directory,
#     libbpf/libelf/zlib, and the compile definition RAIL_BPF_OBJ_<NAME>="<path to NAME.bpf.o>"
#     (NAME upper-cased) so tests can open the raw object too.
# Runtime settings are `const volatile` rodata set through the skeleton, never -D switches,
# so one object serves every configuration.
include_guard(GLOBAL)

find_program(RAIL_BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(RAIL_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RAIL_LIBBPF REQUIRED IMPORTED_TARGET libbpf)

# One imported target for user-space libbpf users (libbpf.pc lists elf and z as private deps
# for static builds; we name them explicitly so both link modes work).
if(NOT TARGET rail_libbpf)
  add_library(rail_libbpf INTERFACE)
  target_link_libraries(rail_libbpf INTERFACE PkgConfig::RAIL_LIBBPF elf z)
endif()

# asm/types.h lives in the multiarch directory; the BPF target does not search it by itself.
execute_process(COMMAND ${CMAKE_C_COMPILER} -dumpmachine OUTPUT_VARIABLE RAIL_BPF_MULTIARCH
                OUTPUT_STRIP_TRAILING_WHITESPACE)
set(RAIL_BPF_ARCH_INCLUDE /usr/include/${RAIL_BPF_MULTIARCH})

function(rail_add_bpf_object NAME)
  set(src ${CMAKE_SOURCE_DIR}/bpf/${NAME}.bpf.c)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.bpf.o)
  set(skel_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(skel ${skel_dir}/${NAME}.skel.h)
  file(GLOB bpf_headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/lib/*.h
       ${CMAKE_SOURCE_DIR}/abi/*.h)

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${RAIL_BPF_CLANG} -O2 -g -target bpf -Wall -Werror
            -D__TARGET_ARCH_x86
            -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}/abi
            -I${RAIL_LIBBPF_INCLUDEDIR} -I${RAIL_BPF_ARCH_INCLUDE}
            -c ${src} -o ${obj}
    DEPENDS ${src} ${bpf_headers}
    COMMENT "BPF ${NAME}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${skel_dir}
    COMMAND ${RAIL_BPFTOOL} gen skeleton ${obj} name ${NAME}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "bpftool gen skeleton ${NAME}"
    VERBATIM)
  add_custom_target(rail_bpf_${NAME}_gen DEPENDS ${obj} ${skel})

  add_library(rail_bpf_${NAME} INTERFACE)
  add_dependencies(rail_bpf_${NAME} rail_bpf_${NAME}_gen)
  target_include_directories(rail_bpf_${NAME} INTERFACE ${skel_dir} ${CMAKE_SOURCE_DIR}/abi)
  target_link_libraries(rail_bpf_${NAME} INTERFACE rail_libbpf)
  string(TOUPPER ${NAME} upper)
  target_compile_definitions(rail_bpf_${NAME} INTERFACE RAIL_BPF_OBJ_${upper}="${obj}")
  set_property(GLOBAL PROPERTY RAIL_BPF_OBJ_${NAME} ${obj})
endfunction()
