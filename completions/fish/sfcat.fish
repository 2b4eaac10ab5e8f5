# fish completion for sfcat(1), the streamfan subscriber.
# Options as in the SYNOPSIS of sfcat.1; keep the two in step.
# The STREAM operand is a name chosen by the user: nothing is offered.

complete -c sfcat -f
complete -c sfcat -s s -r -F -d 'Address of the daemon (socket path)'
complete -c sfcat -s 0 -n 'not __fish_seen_argument -s 0 -l raw' -d 'End each record with a NUL byte'
complete -c sfcat -l raw -n 'not __fish_seen_argument -s 0 -l raw' -d 'Write each record as a frame (4-byte length + payload)'
complete -c sfcat -s n -x -d 'Exit after this many records'
complete -c sfcat -l from -x -a 'now oldest' -d 'Where to start: now, oldest, -N or a sequence number'
complete -c sfcat -l max-lag -x -d 'Lag in bytes past which the daemon lets this subscriber go'
complete -c sfcat -l on-lag -x -a 'disconnect skip' -d 'What the daemon does when this subscriber lags'
complete -c sfcat -l reconnect -d 'Join again after eviction, shutdown or lost connection'
complete -c sfcat -l state -r -F -d 'File remembering where to go on'
complete -c sfcat -l timeout -x -d 'Exit 7 when no record comes for this many seconds'
complete -c sfcat -l print-seq -d 'Start each record with its sequence number and a tab'
complete -c sfcat -l shared -d "Read the daemon's ring itself, from a read-only mapping"
complete -c sfcat -s h -l help -d 'Print the options, their defaults and the exit statuses'
complete -c sfcat -l version -d 'Print version and exit'
