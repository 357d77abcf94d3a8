"""Supply–demand docking (供需对接): demand postings, matching, enquiry threads, NDA data rooms. Above trading (an
enquiry can start an order), below the console."""
