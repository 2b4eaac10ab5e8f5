# fish completion for sfctl(1), the streamfan control tool.
# Options as in the SYNOPSIS of sfctl.1; keep the two in step.

complete -c sfctl -f
complete -c sfctl -n 'not __fish_seen_subcommand_from stats streams watch kick' -a 'stats streams watch kick'
complete -c sfctl -s s -r -F -d 'Address of the daemon (socket path)'
complete -c sfctl -l json -d 'Write one JSON document (stats, streams)'
complete -c sfctl -l interval -x -d 'Seconds between refreshes (watch)'
complete -c sfctl -l reason -x -d 'Why, one word, for the client and the log (kick)'
complete -c sfctl -s h -l help -d 'Print the options, their defaults and the exit statuses'
complete -c sfctl -l version -d 'Print version and exit'
