#  Run by CPack after it built the packages (CPACK_POST_BUILD_SCRIPTS):
#  rebuilds zchannel-dbgsym as Debian's own dbgsym packages are, since
#  CPack 3.25 writes its md5sums with the staging folder's absolute paths
#  and gives it no doc folder. Its doc folder becomes a symlink to
#  zchannel's (which it depends on, at the same version), as dh_strip does.
foreach(package IN LISTS CPACK_PACKAGE_FILES)
    if(NOT package MATCHES "-dbgsym_.*\\.ddeb$")
        continue()
    endif()
    set(tree "${CPACK_TEMPORARY_DIRECTORY}/dbgsym-fixed")
    file(REMOVE_RECURSE "${tree}")
    execute_process(COMMAND dpkg-deb -R "${package}" "${tree}" COMMAND_ERROR_IS_FATAL ANY)
    file(MAKE_DIRECTORY "${tree}/usr/share/doc")
    file(CREATE_LINK zchannel "${tree}/usr/share/doc/zchannel-dbgsym" SYMBOLIC)
    file(GLOB_RECURSE files RELATIVE "${tree}" "${tree}/usr/*")
    list(SORT files)
    set(sums "")
    foreach(file IN LISTS files)
        if(NOT IS_SYMLINK "${tree}/${file}")
            file(MD5 "${tree}/${file}" sum)
            string(APPEND sums "${sum}  ${file}\n")
        endif()
    endforeach()
    file(WRITE "${tree}/DEBIAN/md5sums" "${sums}")
    execute_process(COMMAND dpkg-deb --root-owner-group -b "${tree}" "${package}"
                    OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
    file(REMOVE_RECURSE "${tree}")
endforeach()
