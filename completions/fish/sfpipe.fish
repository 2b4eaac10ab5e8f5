# fish completion for sfpipe(1), the streamfan publisher.
# Options as in the SYNOPSIS of sfpipe.1; keep the two in step.
# The STREAM operand is a name chosen by the user: nothing is offered.

complete -c sfpipe -f
complete -c sfpipe -s s -r -F -d 'Address of the daemon (socket path)'
complete -c sfpipe -s 0 -n 'not __fish_seen_argument -s 0 -l raw' -d 'Records are separated by NUL bytes'
complete -c sfpipe -l raw -n 'not __fish_seen_argument -s 0 -l raw' -d 'Stdin is already frames (4-byte length + payload)'
complete -c sfpipe -l max-frame -x -d 'Largest record to publish (default 1M)'
complete -c sfpipe -l strict -d 'Stop at the first record that is too large'
complete -c sfpipe -l eos -d 'Mark the end of the stream when stdin ends'
complete -c sfpipe -l retry -d 'Wait for the daemon and reconnect when it goes away'
complete -c sfpipe -l pace -d 'Let the daemon hold the publisher back (default for a file)'
complete -c sfpipe -l no-pace -d 'Never be held back (default for a pipe)'
complete -c sfpipe -l min-subscribers -x -d 'Publish nothing before this many subscribers are there'
complete -c sfpipe -l timeout -x -d 'Exit 7 when the subscribers are not there within this many seconds'
complete -c sfpipe -s h -l help -d 'Print the options, their defaults and the exit statuses'
complete -c sfpipe -l version -d 'Print version and exit'
